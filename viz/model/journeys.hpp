// Where every message is, at any virtual time: the envelopes of the
// visualizer. Built from the message-level events of the whole trace as
// segments (waiting in a queue, travelling along a link, delivered or
// bounced), so a position at time t is a lookup, forward or backward.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

enum class EnvelopeState { kComposing, kQueued, kDeferred, kTravelling, kDelivered, kBounced, kRejected };
std::string_view envelope_state_name(EnvelopeState state);

struct Segment {
  std::string message_id;
  enum class Kind { kStay, kFlight, kFinal } kind = Kind::kStay;
  std::string from;  // the host it is at, or leaves
  std::string to;    // flights: the host it travels to
  std::int64_t start_us = 0;
  std::int64_t end_us = std::numeric_limits<std::int64_t>::max();
  EnvelopeState state = EnvelopeState::kQueued;
  std::int64_t next_attempt_us = 0;  // deferred stays
  bool tls = false;                  // flights: the connection used TLS
  bool tls_unverified = false;       // ... but the certificate did not verify
  bool is_bounce = false;            // the message is a DSN
  std::size_t first_event = 0;       // the event that began it
};

// One envelope to draw at a moment.
struct Envelope {
  const Segment* segment = nullptr;
  double progress = 0;  // flights: 0 at `from`, 1 at `to`
};

class Journeys {
 public:
  Journeys() = default;
  explicit Journeys(const std::vector<sim::TraceEvent>& events);

  const std::vector<Segment>& segments() const { return segments_; }
  // Every envelope visible at virtual time `t_us`.
  std::vector<Envelope> at(std::int64_t t_us) const;

 private:
  std::vector<Segment> segments_;
};

}  // namespace smtplab::viz
