#include "sim/trace/trace.hpp"

#include "absl/strings/match.h"
#include "base/absl_string_view.hpp"

namespace smtplab::sim {

bool is_message_level(const TraceEvent& event) { return is_message_level_kind(event.kind); }

bool is_message_level_kind(std::string_view k) {
  return absl::StartsWith(av(k), "queue.") || absl::StartsWith(av(k), "mailbox.") ||
         absl::StartsWith(av(k), "message.") || absl::StartsWith(av(k), "fault.") ||
         absl::StartsWith(av(k), "host.");
}

bool Trace::wants(std::string_view kind) const {
  switch (level_) {
    case TraceLevel::kFull: return true;
    case TraceLevel::kNone: return false;
    case TraceLevel::kMessages: return is_message_level_kind(kind);
  }
  return true;
}

void Trace::record(TraceEvent event) {
  if (level_ == TraceLevel::kNone) return;
  if (level_ == TraceLevel::kMessages && !is_message_level(event)) return;
  event.time_us = absl::ToInt64Microseconds(clock_.now());
  event.sequence = ++sequence_;
  for (const auto& l : listeners_) l(event);
  if (keep_) events_.push_back(std::move(event));
}

void record_link_event(Trace* trace, std::string kind, std::string agent, const std::string& host,
                       const std::string& peer, std::uint64_t connection, std::string text) {
  if (trace == nullptr || !trace->wants(kind)) return;
  TraceEvent e;
  e.explain = kind;
  e.kind = std::move(kind);
  e.host = host;
  e.agent = std::move(agent);
  e.peer = peer;
  e.connection = connection;
  e.text = std::move(text);
  trace->record(std::move(e));
}

}  // namespace smtplab::sim
