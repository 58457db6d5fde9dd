// The SMTP dialogue of one connection, C: and S: lines as they crossed the
// wire (a pipelined batch's commands together, then the replies); the
// connection of the selected event by default. A click selects.
#include <optional>

#include "absl/strings/str_cat.h"
#include "viz/app/views.hpp"

namespace smtplab::viz {

void draw_transcript(Playback& p, ViewState& view, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("SMTP transcript", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  const auto selected = p.selected();
  const auto& connections = p.state().connections();
  // The selected event's connection; for an event on none (a queue's wait),
  // the conversation it follows from, so the 451 that caused the wait shows.
  std::uint64_t conn = 0;
  if (selected) {
    for (std::size_t i = *selected + 1; i-- > 0 && conn == 0;) {
      const std::uint64_t c = p.events()[i].connection;
      if (c != 0 && connections.count(c) != 0) conn = c;
    }
  }
  if (conn == 0) {
    for (const auto& [id, c] : connections) conn = id;  // nothing selected yet: the latest
  }
  const auto it = connections.find(conn);
  if (it == connections.end()) {
    ImGui::TextDisabled("No SMTP conversation yet.");
    ImGui::End();
    return;
  }
  const ConnectionState& c = it->second;
  ImGui::Text("connection %llu: %s -> %s%s%s", static_cast<unsigned long long>(c.id), c.client.c_str(), c.server.c_str(),
              c.tls ? "  [TLS]" : "", c.open ? "" : "  (closed)");
  ImGui::Separator();
  // The line to keep in view: the selected one, or the last one before it.
  std::optional<std::size_t> anchor;
  if (selected) {
    for (const auto& line : c.lines) {
      if (line.event <= *selected && (!anchor || line.event > *anchor)) anchor = line.event;
    }
  }
  ImGui::BeginChild("lines");
  for (const auto& line : c.lines) {
    const bool current = selected && line.event == *selected;
    const ImVec4 colour = line.who == 'C' ? ImVec4(0.55f, 0.8f, 1.0f, 1) : line.who == 'S' ? ImVec4(1, 0.85f, 0.5f, 1)
                                                                                           : ImVec4(0.6f, 0.6f, 0.6f, 1);
    ImGui::PushStyleColor(ImGuiCol_Text, colour);
    // A pipelined command hangs under the one it was written with: "C:|".
    const std::string label = absl::StrCat(std::string(1, line.who), line.pipelined ? ":| " : ": ",
                                           p.events()[line.event].text, "##", line.event);
    if (ImGui::Selectable(label.c_str(), current)) p.select(line.event);
    ImGui::PopStyleColor();
    if (anchor && line.event == *anchor && view.scroll_transcript) ImGui::SetScrollHereY(0.7f);
  }
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace smtplab::viz
