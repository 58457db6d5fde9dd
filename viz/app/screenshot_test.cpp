// Renders library scenarios headless (Xvfb, Mesa's software renderer) with
// `smtplab-viz --screenshot` and checks the picture a student would see:
// each host drawn in its role's colour where the layout put it, and each
// envelope in the colour of its state (deferred, travelling, delivered).
#include <gtest/gtest.h>
#include <stb/stb_image.h>

#include <cmath>
#include <cstdlib>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <map>
#include <fstream>
#include <nlohmann/json.hpp>

#include "viz/app/palette.hpp"

namespace smtplab::viz {
namespace {

struct Shot {
  int w = 0, h = 0;
  std::vector<unsigned char> rgb;
  nlohmann::json info;

  Rgb at(int x, int y) const {
    const std::size_t i = (static_cast<std::size_t>(y) * w + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

bool near(Rgb a, Rgb b) {
  return std::abs(a.r - b.r) <= 12 && std::abs(a.g - b.g) <= 12 && std::abs(a.b - b.b) <= 12;
}

Shot render(const std::string& scenario, const std::string& at, const std::string& more_flags = "") {
  const auto dir = std::filesystem::temp_directory_path() / ("smtplab-viz-shot-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string png = (dir / "shot.png").string(), info = (dir / "shot.json").string();
  // Under AddressSanitizer the X11/Mesa stack leaks a few allocations of
  // its own at exit (no symbols, not ours), so leak checking is off for the
  // viz process; the model it draws is leak-checked by its unit tests.
  const char* asan = std::getenv("ASAN_OPTIONS");
  const std::string env = "ASAN_OPTIONS='" + std::string(asan == nullptr ? "" : asan) + ":detect_leaks=0' ";
  const std::string cmd = env + "timeout 60 " + std::string(SMTPLAB_XVFB_EXEC) + " --screen 1280x800x24 " + std::string(SMTPLAB_VIZ_BINARY) + " " +
                          (scenario[0] == '/' ? scenario : std::string(SMTPLAB_LIBRARY_DIR) + "/" + scenario) + " --screenshot " + png + " --at " + at +
                          " --screenshot_info " + info + " " + more_flags + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::string output;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  const int status = ::pclose(pipe);
  Shot shot;
  EXPECT_EQ(status, 0) << cmd << "\n" << output;
  int channels = 0;
  unsigned char* data = stbi_load(png.c_str(), &shot.w, &shot.h, &channels, 3);
  EXPECT_NE(data, nullptr) << "no PNG from " << cmd << "\n" << output;
  if (data != nullptr) {
    shot.rgb.assign(data, data + static_cast<std::size_t>(shot.w) * shot.h * 3);
    stbi_image_free(data);
  }
  std::ifstream in(info);
  if (in) shot.info = nlohmann::json::parse(in, nullptr, false);
  std::filesystem::remove_all(dir);
  return shot;
}

// Every node's fill shows below its label, inside the circle.
void expect_nodes_drawn(const Shot& s) {
  int nodes = 0;
  for (const auto& p : s.info["placed"]) {
    if (p["what"] != "node") continue;
    ++nodes;
    const Rgb want{p["rgb"][0], p["rgb"][1], p["rgb"][2]};
    const Rgb got = s.at(static_cast<int>(p["x"].get<float>()), static_cast<int>(p["y"].get<float>()) + 17);
    EXPECT_TRUE(near(got, want)) << p["name"] << " drawn as " << int(got.r) << "," << int(got.g) << "," << int(got.b);
  }
  EXPECT_GE(nodes, 5);
}

// The envelope of `message` (or any) in state colour `want`, at its place.
int envelopes_coloured(const Shot& s, Rgb want) {
  int n = 0;
  for (const auto& p : s.info["placed"]) {
    if (p["what"] != "envelope") continue;
    const Rgb drawn{p["rgb"][0], p["rgb"][1], p["rgb"][2]};
    if (!near(drawn, want)) continue;
    const Rgb got = s.at(static_cast<int>(p["x"].get<float>()) - 8, static_cast<int>(p["y"].get<float>()) + 4);
    if (near(got, want)) ++n;
  }
  return n;
}

// A capture read back (capture/testdata/greylisting.pcapng, written by
// `smtplab run greylisting --pcap`): its hosts are addresses, each server in
// the colour of what its port makes it (587 submission, RFC 6409; 25 relay;
// 24 the mailbox server's LMTP), and no envelope, since a capture has no queues.
TEST(VizScreenshotTest, ACaptureIsDrawnWithEachServerInItsRole) {
  const Shot s = render(SMTPLAB_CAPTURE_TESTDATA_DIR "/greylisting.pcapng", "0.1s");
  expect_nodes_drawn(s);
  std::map<std::string, Rgb> fill;
  for (const auto& p : s.info["placed"]) {
    if (p["what"] == "node") fill[p["name"]] = Rgb{p["rgb"][0], p["rgb"][1], p["rgb"][2]};
  }
  ASSERT_TRUE(fill.count("192.0.2.11") && fill.count("192.0.2.13") && fill.count("192.0.2.16")) << s.info.dump();
  EXPECT_TRUE(near(fill["192.0.2.11"], kMsaColour));
  EXPECT_TRUE(near(fill["192.0.2.13"], kMtaColour));
  EXPECT_TRUE(near(fill["192.0.2.16"], kMdaColour));
}

TEST(VizScreenshotTest, GreylistedMessageWaitsDeferredAtTheSendingMta) {
  const Shot s = render("greylisting.yaml", "2m30s");
  ASSERT_FALSE(s.rgb.empty());
  EXPECT_EQ(s.w, 1280);
  EXPECT_EQ(s.h, 800);
  expect_nodes_drawn(s);
  EXPECT_EQ(envelopes_coloured(s, kEnvelopeDeferred), 1);
}

TEST(VizScreenshotTest, MessagesTravelAlongTheLinks) {
  const Shot s = render("starttls-stripping.yaml", "0.33s");
  ASSERT_FALSE(s.rgb.empty());
  expect_nodes_drawn(s);
  EXPECT_EQ(envelopes_coloured(s, kEnvelopeTravelling), 2);
}

TEST(VizScreenshotTest, DeliveredMessageRestsAtTheMailboxServer) {
  const Shot s = render("direct-delivery.yaml", "1h");
  ASSERT_FALSE(s.rgb.empty());
  expect_nodes_drawn(s);
  EXPECT_GE(envelopes_coloured(s, kEnvelopeDelivered), 1);
  EXPECT_EQ(envelopes_coloured(s, kEnvelopeDeferred), 0);
}

// The ladder view during the greylisting wait: a lane per host in the order
// the message met them, each in its role's colour; the 451 drawn as an arrow
// from the greylisting MX back to the sending MTA in the deferral's colour;
// nothing yet of attempt 2.
TEST(VizScreenshotTest, LadderShowsTheGreylistingConversation) {
  const Shot s = render("greylisting.yaml", "2m", "--view ladder");
  ASSERT_FALSE(s.rgb.empty());
  std::vector<std::string> lanes;
  float last_x = -1;
  for (const auto& p : s.info["placed"]) {
    if (p["what"] != "lane") continue;
    lanes.push_back(p["name"]);
    EXPECT_GT(p["x"].get<float>(), last_x) << p["name"];
    last_x = p["x"].get<float>();
    const Rgb want{p["rgb"][0], p["rgb"][1], p["rgb"][2]};
    const Rgb got = s.at(static_cast<int>(p["x"].get<float>()), static_cast<int>(p["y"].get<float>()));
    EXPECT_TRUE(near(got, want)) << p["name"] << " drawn as " << int(got.r) << "," << int(got.g) << "," << int(got.b);
  }
  EXPECT_EQ(lanes, (std::vector<std::string>{"laptop.example.org", "submit.example.org", "mx.example.org",
                                             "mx.example.net", "mail.example.net"}));
  int refusals = 0, retries = 0;
  for (const auto& p : s.info["placed"]) {
    if (p["what"] != "row") continue;
    const std::string label = p["name"];
    if (label.rfind("451 4.7.1", 0) == 0) {
      ++refusals;
      const Rgb got = s.at(static_cast<int>(p["x"].get<float>()), static_cast<int>(p["y"].get<float>()));
      EXPECT_TRUE(near(got, kEnvelopeDeferred)) << int(got.r) << "," << int(got.g) << "," << int(got.b);
    }
    if (label.rfind("attempt 2", 0) == 0) ++retries;
  }
  EXPECT_EQ(refusals, 1);
  EXPECT_EQ(retries, 0);
}

struct Ran {
  int exit_status = -1;
  std::string output;
};

// Runs smtplab-viz with `args` under Xvfb at 640x480; stdout and stderr together.
Ran run_viz(const std::string& args) {
  const std::string cmd = "ASAN_OPTIONS=detect_leaks=0 timeout 60 " + std::string(SMTPLAB_XVFB_EXEC) + " --screen 640x480x24 " +
                          std::string(SMTPLAB_VIZ_BINARY) + " " + args + " --size 640x480 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  Ran ran;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) ran.output.append(buf, n);
  const int status = ::pclose(pipe);
  ran.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

// A truncated trace gets a message naming the line, in the window and on
// stderr, and a failing exit status; never a crash.
TEST(VizScreenshotTest, TruncatedTraceIsReportedNotCrashedOn) {
  const auto dir = std::filesystem::temp_directory_path() / ("smtplab-viz-broken-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cut.jsonl") << R"({"t":0,"seq":1,"kind":"conn.open","host":"a","agent":"net","conn":1,"peer":"b","te)";
  const Ran ran = run_viz((dir / "cut.jsonl").string() + " --screenshot " + (dir / "x.png").string());
  EXPECT_EQ(ran.exit_status, 1) << ran.output;
  EXPECT_NE(ran.output.find("cut.jsonl: line 1"), std::string::npos) << ran.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "x.png"));  // the window showed the message
  std::filesystem::remove_all(dir);
}

// --attach to a port where nothing listens says so (in the window, on
// stderr, in the exit status) instead of showing an empty world.
TEST(VizScreenshotTest, AttachWithNothingListeningIsReported) {
  // A port that was free a moment ago: bound, then closed.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  const std::string url = "ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/trace";
  const auto png = std::filesystem::temp_directory_path() / ("smtplab-viz-attach-" + std::to_string(::getpid()) + ".png");
  const Ran ran = run_viz("--attach " + url + " --attach_wait 1s --screenshot " + png.string());
  EXPECT_EQ(ran.exit_status, 1) << ran.output;
  EXPECT_NE(ran.output.find("nothing arrived from " + url + ": cannot connect"), std::string::npos) << ran.output;
  std::filesystem::remove(png);
}

TEST(VizScreenshotTest, AttachWantsAWebSocketUrl) {
  const Ran ran = run_viz("--attach http://127.0.0.1:8025/trace");
  EXPECT_EQ(ran.exit_status, 2) << ran.output;
  EXPECT_NE(ran.output.find("expected ws://HOST:PORT/trace"), std::string::npos) << ran.output;
}

}  // namespace
}  // namespace smtplab::viz
