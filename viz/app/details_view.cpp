// The right-hand column: what the selected event means (the same texts
// the stepper prints), the selected message, and every MTA's queue.
#include "absl/strings/str_cat.h"
#include "scenarios/explanations.hpp"
#include "viz/app/views.hpp"
#include "viz/model/detail_text.hpp"

namespace smtplab::viz {
namespace {

void explanation(const Playback& p) {
  const auto sel = p.selected();
  if (!sel) {
    ImGui::TextWrapped("Press Space to play, or Right to step. Each event is explained here.");
    return;
  }
  const sim::TraceEvent& e = p.events()[*sel];
  ImGui::Text("%s  %s%s%s", clock_text(e.time_us).c_str(), e.host.c_str(), e.peer.empty() ? "" : " -> ",
              e.peer.c_str());
  ImGui::TextColored(ImVec4(0.9f, 0.9f, 0.5f, 1), "%s", sim::name_of(e.kind));
  ImGui::TextWrapped("%s", e.text.c_str());
  ImGui::Separator();
  const std::string why = scenarios::explain_event(e);
  ImGui::TextWrapped("%s", why.empty() ? "(no explanation for this event)" : why.c_str());
  // Wrapped, like the explanation: a reply or an address can be long.
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyle().Colors[ImGuiCol_TextDisabled]);
  for (const auto& [k, v] : e.details) ImGui::TextWrapped("%s", detail_text(e, k, v).c_str());
  ImGui::PopStyleColor();
}

void inspector(Playback& p, ViewState& view) {
  if (view.selected_message.empty()) {
    // Follow the selected event's message.
    if (auto sel = p.selected(); sel && !p.events()[*sel].message.empty()) view.selected_message = p.events()[*sel].message;
  }
  const auto it = p.state().messages().find(view.selected_message);
  if (it == p.state().messages().end()) {
    ImGui::TextDisabled("Click an envelope to inspect its message.");
    return;
  }
  const MessageState& m = it->second;
  ImGui::TextWrapped("Message-ID: %s%s", m.message_id.c_str(), m.is_bounce ? "  (a bounce, RFC 3464)" : "");
  if (!m.from.empty()) ImGui::Text("MAIL FROM: <%s>", m.from.c_str());
  if (!m.subject.empty()) ImGui::Text("Subject: %s", m.subject.c_str());
  for (const auto& [rcpt, status] : m.recipients) ImGui::BulletText("RCPT TO:<%s>  %s", rcpt.c_str(), status.c_str());
  if (!m.hops.empty()) {
    std::string path;
    for (const auto& h : m.hops) absl::StrAppend(&path, path.empty() ? "" : " -> ", h);
    ImGui::TextWrapped("Queued at: %s (one Received: header each)", path.c_str());
  }
  const std::string text = m.current_text();
  if (!text.empty() && ImGui::TreeNodeEx("text", ImGuiTreeNodeFlags_DefaultOpen, "the message as it stands (%zu Received: headers)",
                                          m.added.size())) {
    // CRLF shown as line ends; the newest Received: header is on top, as in the real message.
    std::string shown;
    for (char c : text) {
      if (c != '\r') shown += c;
    }
    ImGui::BeginChild("message_text", ImVec2(0, 220), true, ImGuiWindowFlags_HorizontalScrollbar);
    ImGui::TextUnformatted(shown.c_str());
    ImGui::EndChild();
    ImGui::TreePop();
  }
  if (ImGui::TreeNode("events", "%zu events about it", m.events.size())) {
    for (std::size_t i : m.events) {
      const auto& e = p.events()[i];
      if (ImGui::Selectable(absl::StrCat(clock_text(e.time_us), " ", sim::name_of(e.kind), " ", e.host, "##", i).c_str(),
                            p.selected() == i)) {
        p.seek_event(i + 1);
      }
    }
    ImGui::TreePop();
  }
}

void queues(const Playback& p) {
  const std::int64_t now = p.virtual_now();
  // One row per host title and per entry; only the visible rows are laid
  // out (a thousand deferred messages must not cost a thousand text items).
  struct Row {
    const std::string* host = nullptr;
    const QueueEntry* entry = nullptr;
    bool reply = false;  // the entry's last reply, on a line of its own
  };
  std::vector<Row> rows;
  for (const auto& [host, h] : p.state().hosts()) {
    if (h.queue.empty()) continue;
    rows.push_back({&host, nullptr});
    for (const auto& [id, q] : h.queue) {
      rows.push_back({&host, &q});
      if (!q.last_reply.empty()) rows.push_back({&host, &q, true});
    }
  }
  if (rows.empty()) {
    ImGui::TextDisabled("Every queue is empty.");
    return;
  }
  ImGui::BeginChild("queue_rows", ImVec2(0, std::min(260.0f, 22.0f * static_cast<float>(rows.size()) + 8)), false);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(rows.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const Row& r = rows[static_cast<std::size_t>(i)];
      if (r.entry == nullptr) {
        ImGui::Text("%s", r.host->c_str());
        continue;
      }
      const QueueEntry& q = *r.entry;
      if (r.reply) {
        ImGui::TextDisabled("    last reply: %s", q.last_reply.c_str());
        continue;
      }
      std::string state = q.state == QueueEntry::State::kInFlight  ? "sending"
                          : q.state == QueueEntry::State::kDeferred ? "deferred"
                                                                    : "queued";
      if (q.state == QueueEntry::State::kDeferred && q.next_attempt_us > now) {
        absl::StrAppend(&state, ", retry in ", countdown_text(q.next_attempt_us - now));
      }
      ImGui::BulletText("%s  to %s  (%s, attempt %d)", q.queue_id.c_str(), q.to.c_str(), state.c_str(), q.attempts);
    }
  }
  ImGui::EndChild();
}

}  // namespace

void draw_details(Playback& p, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("Details", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  if (ImGui::CollapsingHeader("What happened", ImGuiTreeNodeFlags_DefaultOpen)) explanation(p);
  if (ImGui::CollapsingHeader("Message", ImGuiTreeNodeFlags_DefaultOpen)) inspector(p, view);
  if (ImGui::CollapsingHeader("Queues", ImGuiTreeNodeFlags_DefaultOpen)) queues(p);
  if (!trace.lesson_before.empty() && ImGui::CollapsingHeader("Lesson")) {
    ImGui::TextWrapped("%s", trace.lesson_before.c_str());
    if (p.cursor() == p.events().size()) {
      ImGui::Separator();
      ImGui::TextWrapped("%s", trace.lesson_after.c_str());
    }
  }
  ImGui::End();
}

}  // namespace smtplab::viz
