// Playback controls, the scrubber, the clock, and the keyboard.
// Key codes are GLFW's: ImGui 1.86 indexes its key state by the backend's codes.
#include <GLFW/glfw3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "viz/app/views.hpp"

namespace smtplab::viz {

void handle_keys(Playback& p, ViewState& view) {
  if (ImGui::GetIO().WantTextInput) return;
  const bool shift = ImGui::GetIO().KeyShift;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Space))) p.toggle();
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) shift ? p.next_message_event() : p.step_forward();
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) shift ? p.previous_message_event() : p.step_back();
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Home))) p.seek_event(0);
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_End))) p.seek_event(p.events().size());
  if (ImGui::IsKeyPressed(GLFW_KEY_N)) p.next_message_event();
  if (ImGui::IsKeyPressed(GLFW_KEY_P)) p.previous_message_event();
  if (ImGui::IsKeyPressed(GLFW_KEY_H) || ImGui::IsKeyPressed(GLFW_KEY_F1)) view.show_help = !view.show_help;
  if (ImGui::IsKeyPressed(GLFW_KEY_L)) {
    view.main_view = view.main_view == MainView::kLadder ? MainView::kTopology : MainView::kLadder;
  }
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) p.set_speed(std::min(64.0, p.speed() * 2));
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) p.set_speed(std::max(0.125, p.speed() / 2));
}

void draw_help(ViewState& view) {
  if (!view.show_help) return;
  ImGui::SetNextWindowPos(ImVec2(ImGui::GetIO().DisplaySize.x * 0.5f, ImGui::GetIO().DisplaySize.y * 0.5f),
                          ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::Begin("Keys", &view.show_help, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse);
  ImGui::TextUnformatted(
      "Space          play / pause\n"
      "Right / Left   one event forward / back\n"
      "Shift+Right/Left, N / P   next / previous message event\n"
      "                          (queue, mailbox, submission)\n"
      "Up / Down      faster / slower\n"
      "Home / End     start / end of the run\n"
      "L              the ladder diagram / the topology\n"
      "H or F1        this help\n\n"
      "Drag a host to move it. Click an envelope to inspect its message.\n"
      "Click a transcript line or a ladder row to explain it.");
  ImGui::End();
}

void draw_timeline(Playback& p, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("Timeline", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                        ImGuiWindowFlags_NoTitleBar);
  ImGui::TextUnformatted(trace.title.c_str());
  ImGui::SameLine(size.x - 330);
  ImGui::Text("virtual time %s   event %zu/%zu", clock_text(p.virtual_now()).c_str(), p.cursor(), p.events().size());
  if (ImGui::Button("|<")) p.seek_event(0);
  ImGui::SameLine();
  if (ImGui::Button("<< msg")) p.previous_message_event();
  ImGui::SameLine();
  if (ImGui::Button("< step")) p.step_back();
  ImGui::SameLine();
  if (ImGui::Button(p.playing() ? "  pause  " : "  play   ")) p.toggle();
  ImGui::SameLine();
  if (ImGui::Button("step >")) p.step_forward();
  ImGui::SameLine();
  if (ImGui::Button("msg >>")) p.next_message_event();
  ImGui::SameLine();
  if (ImGui::Button(">|")) p.seek_event(p.events().size());
  ImGui::SameLine();
  float speed = static_cast<float>(p.speed());
  ImGui::SetNextItemWidth(120);
  if (ImGui::SliderFloat("speed", &speed, 0.125f, 64.0f, "%.2fx", ImGuiSliderFlags_Logarithmic)) p.set_speed(speed);
  ImGui::SameLine();
  if (ImGui::Button("? keys")) view.show_help = !view.show_help;
  float d = static_cast<float>(p.display_time());
  ImGui::SetNextItemWidth(-1);
  if (ImGui::SliderFloat("##scrub", &d, 0.0f, static_cast<float>(p.length()), "")) p.seek_display(d);
  ImGui::End();
}

}  // namespace smtplab::viz
