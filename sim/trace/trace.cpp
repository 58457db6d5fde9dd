#include "sim/trace/trace.hpp"

namespace smtplab::sim {

bool Trace::wants(EventKind kind) const {
  switch (level_) {
    case TraceLevel::kFull: return true;
    case TraceLevel::kNone: return false;
    case TraceLevel::kMessages: return is_message_level(kind);
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

void record_link_event(Trace* trace, EventKind kind, std::string agent, const std::string& host,
                       const std::string& peer, std::uint64_t connection, std::string text) {
  if (trace == nullptr || !trace->wants(kind)) return;
  TraceEvent e;
  e.explain = name_of(kind);
  e.kind = kind;
  e.host = host;
  e.agent = std::move(agent);
  e.peer = peer;
  e.connection = connection;
  e.text = std::move(text);
  trace->record(std::move(e));
}

}  // namespace smtplab::sim
