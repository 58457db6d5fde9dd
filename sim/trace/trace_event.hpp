// One thing that happened in a run: the contract between the simulator and
// everything that shows or checks a run (stepper, visualizer, expectations,
// tests, exports). See docs/trace.md for the schema.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/trace/trace_kinds.hpp"

namespace smtplab::sim {

struct TraceEvent {
  std::int64_t time_us = 0;      // virtual microseconds since the start of the run
  std::uint64_t sequence = 0;    // position in the trace, from 1
  EventKind kind = EventKind::kConnOpen;  // what happened (trace_kinds.hpp, docs/trace.md)
  std::string host;              // where it happened
  std::string agent;             // "mua", "msa", "mta", "mda", "dns", "net", ...
  std::uint64_t connection = 0;  // 0 when not about a connection
  std::string message;           // the message's queue id, when about one
  std::string peer;              // the other end (host), when there is one
  std::string text;              // the SMTP line, the DNS question, a description
  int code = 0;                  // the reply code, for replies
  std::string explain;           // stable explanation key, e.g. "reply.451.greylisted"
  // Extra facts as name/value pairs in a fixed order (recipient, next_retry_us, ...).
  using Details = std::vector<std::pair<std::string, std::string>>;
  Details details;

  const std::string* detail(std::string_view name) const {
    for (const auto& [k, v] : details) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  friend bool operator==(const TraceEvent&, const TraceEvent&) = default;
};

// Whether an event matters at the level of whole messages (queue, mailbox,
// bounce) rather than single lines on the wire. Large runs can keep only these.
inline bool is_message_level(const TraceEvent& event) { return is_message_level(event.kind); }

}  // namespace smtplab::sim
