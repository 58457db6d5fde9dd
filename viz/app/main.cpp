// smtplab-viz: watch a scenario's mail travel, store-and-forward.
//
//   smtplab-viz [SCENARIO.yaml | TRACE.jsonl | CAPTURE.pcap]   (default: the greylisting lesson)
//   smtplab-viz FILE --screenshot OUT.png --at 5m10s [--size 1280x800]
//   smtplab-viz --attach ws://127.0.0.1:8025/trace   (a run of smtplab serve, live)
//
// The window only reads the trace; it never touches an agent.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <stb/stb_image_write.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "viz/app/live_trace_client.hpp"
#include "viz/app/trace_source.hpp"
#include "viz/app/views.hpp"

ABSL_FLAG(std::string, screenshot, "", "Render one frame into this PNG and exit");
ABSL_FLAG(absl::Duration, at, absl::ZeroDuration(), "With --screenshot: the virtual time to show (e.g. 5m10s)");
ABSL_FLAG(std::string, view, "topology",
          "The big pane: topology (hosts and envelopes) or ladder (the selected message's ladder diagram); L switches");
ABSL_FLAG(std::string, size, "1280x800", "Window size, WIDTHxHEIGHT");
ABSL_FLAG(int, bench_frames, 0,
          "Render this many frames at --at as fast as possible, print frames per second and exit (a benchmark)");
ABSL_FLAG(std::string, attach, "",
          "Follow a live run: the trace WebSocket smtplab serve prints (ws://127.0.0.1:8025/trace)");
ABSL_FLAG(absl::Duration, attach_wait, absl::Seconds(3),
          "With --attach and --screenshot: how long to read the stream before drawing (then the latest moment "
          "is drawn, or --at if given)");
ABSL_FLAG(std::string, screenshot_info, "",
          "With --screenshot: also write where each host and envelope was drawn (JSON), for tests");

namespace smtplab::viz {
namespace {

constexpr std::size_t kLiveSmallTrace = 20000;        // events
constexpr absl::Duration kLiveBatch = absl::Milliseconds(250);

struct Layout {
  ImVec2 timeline_pos, timeline_size, topology_pos, topology_size, transcript_pos, transcript_size, details_pos,
      details_size;
};

Layout layout_for(float w, float h) {
  const float top = 78, bottom = std::max(160.0f, h * 0.28f), right = std::max(320.0f, w * 0.32f);
  Layout l;
  l.timeline_pos = ImVec2(0, 0);
  l.timeline_size = ImVec2(w, top);
  l.topology_pos = ImVec2(0, top);
  l.topology_size = ImVec2(w - right, h - top - bottom);
  l.transcript_pos = ImVec2(0, h - bottom);
  l.transcript_size = ImVec2(w - right, bottom);
  l.details_pos = ImVec2(w - right, top);
  l.details_size = ImVec2(right, h - top);
  return l;
}

void draw_error(const std::string& error) {
  ImGui::SetNextWindowPos(ImVec2(40, 40));
  ImGui::SetNextWindowSize(ImVec2(ImGui::GetIO().DisplaySize.x - 80, ImGui::GetIO().DisplaySize.y - 80));
  ImGui::Begin("Cannot show this run", nullptr, ImGuiWindowFlags_NoCollapse);
  ImGui::TextColored(ImVec4(1, 0.5f, 0.4f, 1), "The file could not be loaded:");
  ImGui::TextWrapped("%s", error.c_str());
  ImGui::End();
}

bool write_png(const std::string& path, int w, int h) {
  std::vector<unsigned char> pixels(static_cast<std::size_t>(w) * h * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
  // OpenGL's rows start at the bottom.
  std::vector<unsigned char> flipped(pixels.size());
  for (int y = 0; y < h; ++y) {
    std::copy_n(&pixels[static_cast<std::size_t>(h - 1 - y) * w * 3], static_cast<std::size_t>(w) * 3,
                &flipped[static_cast<std::size_t>(y) * w * 3]);
  }
  return stbi_write_png(path.c_str(), w, h, 3, flipped.data(), w * 3) != 0;
}

bool write_info(const std::string& path, const ViewState& view, const Playback& p) {
  nlohmann::json j;
  j["virtual_time_us"] = p.virtual_now();
  j["events_applied"] = p.cursor();
  for (const auto& item : view.placed) {
    j["placed"].push_back({{"what", item.what}, {"name", item.name}, {"x", item.x}, {"y", item.y},
                           {"rgb", {item.colour.r, item.colour.g, item.colour.b}}});
  }
  std::ofstream out(path);
  out << j.dump(1) << "\n";
  return static_cast<bool>(out);
}

int run(int argc, char** argv) {
  absl::FlagsUsageConfig usage_config;
  // --help lists the viz's own flags (the default matches the program name
  // against file names, which finds none here).
  usage_config.contains_help_flags = [](absl::string_view file) { return absl::StrContains(file, "viz/app/"); };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::SetProgramUsageMessage(
      "smtplab-viz [SCENARIO.yaml | TRACE.jsonl | CAPTURE.pcap[ng]] [--screenshot OUT.png --at 5m10s --size 1280x800]\n"
      "       smtplab-viz --attach ws://127.0.0.1:8025/trace   (live, from smtplab serve)");
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  const std::string path = positional.size() > 1 ? positional[1] : "";
  const std::string attach = absl::GetFlag(FLAGS_attach);
  if (!attach.empty() && !path.empty()) {
    std::fprintf(stderr, "smtplab-viz: give a file or --attach URL, not both\n");
    return 2;
  }
  int width = 1280, height = 800;
  {
    std::vector<std::string> wh = absl::StrSplit(absl::GetFlag(FLAGS_size), 'x');
    if (wh.size() != 2 || !absl::SimpleAtoi(wh[0], &width) || !absl::SimpleAtoi(wh[1], &height) || width < 320 ||
        height < 240 || width > 8192 || height > 8192) {
      std::fprintf(stderr, "smtplab-viz: --size must be WIDTHxHEIGHT, e.g. 1280x800\n");
      return 2;
    }
  }
  MainView main_view = MainView::kTopology;
  if (const std::string v = absl::GetFlag(FLAGS_view); v == "ladder") {
    main_view = MainView::kLadder;
  } else if (v != "topology") {
    std::fprintf(stderr, "smtplab-viz: --view must be topology or ladder, not %s\n", v.c_str());
    return 2;
  }
  const std::string screenshot = absl::GetFlag(FLAGS_screenshot);

  std::string error;
  LoadedTrace trace;
  std::unique_ptr<LiveTraceClient> live;
  if (!attach.empty()) {
    auto url = parse_websocket_url(attach);
    if (!url.ok()) {
      std::fprintf(stderr, "smtplab-viz: --attach %s\n", std::string(url.status().message()).c_str());
      return 2;
    }
    live = std::make_unique<LiveTraceClient>(*url);
    trace.title = "live: " + attach;
  } else {
    auto loaded = load_trace_source(path);
    if (!loaded.ok()) {
      error = std::string(loaded.status().message());
      std::fprintf(stderr, "smtplab-viz: %s\n", error.c_str());
    }
    trace = loaded.ok() ? std::move(*loaded) : LoadedTrace{};
  }

  if (!glfwInit()) {
    std::fprintf(stderr, "smtplab-viz: cannot initialise GLFW (is there a display? try xvfb-run)\n");
    return 1;
  }
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  GLFWwindow* window = glfwCreateWindow(width, height, ("smtplab-viz: " + trace.title).c_str(), nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(stderr, "smtplab-viz: cannot open a window with OpenGL 3\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(screenshot.empty() ? 1 : 0);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini littering the working directory
  ImGui::StyleColorsDark();
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  Playback playback(trace.events);
  ViewState view;
  view.main_view = main_view;
  const int bench_frames = absl::GetFlag(FLAGS_bench_frames);
  const bool fixed_time = !screenshot.empty() || bench_frames > 0;
  if (live) {
    playback.set_live(true);
    if (fixed_time) {
      // Read the stream for a while, then draw one moment of it.
      const absl::Time until = absl::Now() + absl::GetFlag(FLAGS_attach_wait);
      while (absl::Now() < until && !live->ended()) absl::SleepFor(absl::Milliseconds(20));
      playback.append(live->take());
      playback.pause();
      trace.title = "live: " + attach + " (" + live->status() + ")";
      if (playback.events().empty()) {
        error = "nothing arrived from " + attach + ": " + live->status();
        std::fprintf(stderr, "smtplab-viz: %s\n", error.c_str());
      }
      const absl::Duration at = absl::GetFlag(FLAGS_at);
      at == absl::ZeroDuration() ? playback.seek_event(playback.events().size())
                                 : playback.seek_virtual(absl::ToInt64Microseconds(at));
    }
  } else if (fixed_time) {
    playback.seek_virtual(absl::ToInt64Microseconds(absl::GetFlag(FLAGS_at)));
  }
  if (bench_frames > 0) glfwSwapInterval(0);
  int frames_left = !screenshot.empty() ? 3 : bench_frames > 0 ? bench_frames : -1;  // ImGui sizes windows on its first frames
  const absl::Time bench_start = absl::Now();
  absl::Time last_append = absl::InfinitePast();
  int status = 0;
  while (!glfwWindowShouldClose(window)) {
    glfwPollEvents();
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGui::NewFrame();
    int fw = 0, fh = 0;
    glfwGetFramebufferSize(window, &fw, &fh);
    if (live && !fixed_time && (playback.events().size() < kLiveSmallTrace || absl::Now() - last_append >= kLiveBatch)) {
      // append() rebuilds the journeys from the whole trace: every frame
      // while the run is small, a few times a second once it is long.
      playback.append(live->take());
      last_append = absl::Now();
      trace.title = "live: " + attach + " (" + live->status() + ")";
      if (live->ended() && playback.events().empty()) error = live->status();
    }
    if (error.empty()) {
      if (!fixed_time) {
        handle_keys(playback, view);
        playback.tick(ImGui::GetIO().DeltaTime);
      }
      const Layout l = layout_for(static_cast<float>(fw), static_cast<float>(fh));
      draw_timeline(playback, view, trace, l.timeline_pos, l.timeline_size);
      if (view.main_view == MainView::kLadder) {
        draw_ladder(playback, view, l.topology_pos, l.topology_size);
      } else {
        draw_topology(playback, view, l.topology_pos, l.topology_size);
      }
      draw_transcript(playback, view, l.transcript_pos, l.transcript_size);
      draw_details(playback, view, trace, l.details_pos, l.details_size);
      draw_help(view);
    } else {
      draw_error(error);
    }
    ImGui::Render();
    glViewport(0, 0, fw, fh);
    glClearColor(kBackground.r / 255.0f, kBackground.g / 255.0f, kBackground.b / 255.0f, 1);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (bench_frames > 0 && --frames_left == 0) {
      glFinish();
      const double seconds = absl::ToDoubleSeconds(absl::Now() - bench_start);
      std::size_t envelopes = 0, travelling = 0;
      for (const auto& item : view.placed) envelopes += item.what == "envelope";
      for (const auto& e : playback.envelopes()) travelling += e.segment->kind == Segment::Kind::kFlight;
      std::printf("smtplab-viz bench: %d frames at %dx%d in %.2f s = %.1f frames/s; %zu envelopes drawn, %zu "
                  "travelling, at virtual %s (%zu events)\n",
                  bench_frames, fw, fh, seconds, bench_frames / seconds, envelopes, travelling,
                  clock_text(playback.virtual_now()).c_str(), playback.events().size());
      break;
    }
    if (!screenshot.empty() && --frames_left == 0) {
      if (!write_png(screenshot, fw, fh)) {
        std::fprintf(stderr, "smtplab-viz: cannot write %s\n", screenshot.c_str());
        status = 1;
      } else if (const std::string info = absl::GetFlag(FLAGS_screenshot_info); !info.empty() &&
                                                                              !write_info(info, view, playback)) {
        std::fprintf(stderr, "smtplab-viz: cannot write %s\n", info.c_str());
        status = 1;
      }
      if (!error.empty()) status = 1;
      break;
    }
    glfwSwapBuffers(window);
  }
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return status;
}

}  // namespace
}  // namespace smtplab::viz

int main(int argc, char** argv) { return smtplab::viz::run(argc, argv); }
