// Records trace events as a run produces them. Keeps them in memory, streams
// them to a JSON Lines file, or both; at TraceLevel::kMessages it keeps only
// message-level events so million-message runs stay small.
#pragma once

#include <cstdio>
#include <functional>
#include <vector>

#include "sim/clock.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::sim {

enum class TraceLevel { kFull, kMessages, kNone };

class Trace {
 public:
  explicit Trace(const Clock& clock, TraceLevel level = TraceLevel::kFull, bool keep_in_memory = true)
      : clock_(clock), level_(level), keep_(keep_in_memory) {}

  // Stamps the event with the current virtual time and a sequence number.
  void record(TraceEvent event);
  bool wants(EventKind kind) const;
  // Every event also goes to `listener` (a live viewer, a JSON Lines writer).
  void add_listener(std::function<void(const TraceEvent&)> listener) { listeners_.push_back(std::move(listener)); }

  const std::vector<TraceEvent>& events() const { return events_; }
  std::uint64_t count() const { return sequence_; }
  TraceLevel level() const { return level_; }

 private:
  const Clock& clock_;
  TraceLevel level_;
  bool keep_;
  std::uint64_t sequence_ = 0;
  std::vector<TraceEvent> events_;
  std::vector<std::function<void(const TraceEvent&)>> listeners_;
};

// An event about a link or a connection rather than a message, as the
// networks and link taps record them (conn.open, net.partition,
// attack.strip...): `explain` is the kind. Nothing happens without a trace,
// or when its level leaves the kind out.
void record_link_event(Trace* trace, EventKind kind, std::string agent, const std::string& host,
                       const std::string& peer, std::uint64_t connection, std::string text);

}  // namespace smtplab::sim
