#include "viz/model/journeys.hpp"

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"

namespace smtplab::viz {

std::string_view envelope_state_name(EnvelopeState state) {
  switch (state) {
    case EnvelopeState::kComposing: return "composing";
    case EnvelopeState::kQueued: return "queued";
    case EnvelopeState::kDeferred: return "deferred";
    case EnvelopeState::kTravelling: return "travelling";
    case EnvelopeState::kDelivered: return "delivered";
    case EnvelopeState::kBounced: return "bounced";
    case EnvelopeState::kRejected: return "rejected";
  }
  return "?";
}

namespace {

class Builder {
 public:
  explicit Builder(std::vector<Segment>& out) : out_(out) {}

  void event(const sim::TraceEvent& e, std::size_t index) {
    const sim::EventKind k = e.kind;
    const std::string& m = e.message;
    if (k == sim::EventKind::kMessageDsn) {
      if (const std::string* id = e.detail(sim::detail_key::kDsnMessageId)) bounces_.insert(*id);
      return;
    }
    if (m.empty()) return;
    const std::int64_t t = e.time_us;
    if (k == sim::EventKind::kMessageSubmit) {
      open_flight(m, e.host, e.peer, t, index);
    } else if (k == sim::EventKind::kMessageRejected) {
      close_flights_from(m, e.host, t);
      add_final(m, e.host, t, EnvelopeState::kRejected, index);
    } else if (k == sim::EventKind::kQueueEnqueue) {
      close_flights_to(m, e.host, t);
      open_stay(m, e.host, t, EnvelopeState::kQueued, index);
    } else if (k == sim::EventKind::kQueueAttempt) {
      close_stay(m, e.host, t);
      open_flight(m, e.host, e.peer, t, index);
    } else if (k == sim::EventKind::kTlsHandshake) {
      if (auto it = flights_.find({m, e.host, e.peer}); it != flights_.end()) {
        out_[it->second].tls = true;
        const std::string* verified = e.detail(sim::detail_key::kVerified);
        out_[it->second].tls_unverified = verified != nullptr && *verified != "yes";
      }
    } else if (k == sim::EventKind::kQueueRelay) {
      close_flight(m, e.host, e.peer, t);
    } else if (k == sim::EventKind::kQueueDefer || k == sim::EventKind::kQueueHopFailed) {
      close_flight(m, e.host, e.peer, t);
      if (stays_.count({m, e.host}) == 0) open_stay(m, e.host, t, EnvelopeState::kDeferred, index);
      else out_[stays_[{m, e.host}]].state = EnvelopeState::kDeferred;
    } else if (k == sim::EventKind::kQueueWait) {
      if (auto it = stays_.find({m, e.host}); it != stays_.end()) {
        std::int64_t next = 0;
        if (const std::string* v = e.detail(sim::detail_key::kNextAttemptUs); v != nullptr && absl::SimpleAtoi(*v, &next)) {
          out_[it->second].next_attempt_us = next;
        }
        out_[it->second].state = EnvelopeState::kDeferred;
      }
    } else if (k == sim::EventKind::kQueueBounce || k == sim::EventKind::kQueueExpire) {
      close_flight(m, e.host, e.peer, t);
      add_final(m, e.host, t, EnvelopeState::kBounced, index);
    } else if (k == sim::EventKind::kQueueDone) {
      close_stay(m, e.host, t);
    } else if (k == sim::EventKind::kMailboxDeliver) {
      close_flights_to(m, e.host, t);
      add_final(m, e.host, t, EnvelopeState::kDelivered, index);
    }
  }

  void finish() {
    for (auto& s : out_) s.is_bounce = bounces_.count(s.message_id) > 0;
  }

 private:
  Segment& add(const std::string& m, Segment::Kind kind, const std::string& from, const std::string& to,
               std::int64_t t, EnvelopeState state, std::size_t index) {
    Segment s;
    s.message_id = m;
    s.kind = kind;
    s.from = from;
    s.to = to;
    s.start_us = t;
    s.state = state;
    s.first_event = index;
    out_.push_back(std::move(s));
    return out_.back();
  }
  void open_stay(const std::string& m, const std::string& host, std::int64_t t, EnvelopeState state, std::size_t i) {
    close_stay(m, host, t);
    add(m, Segment::Kind::kStay, host, "", t, state, i);
    stays_[{m, host}] = out_.size() - 1;
  }
  void close_stay(const std::string& m, const std::string& host, std::int64_t t) {
    if (auto it = stays_.find({m, host}); it != stays_.end()) {
      out_[it->second].end_us = t;
      stays_.erase(it);
    }
  }
  void open_flight(const std::string& m, const std::string& from, const std::string& to, std::int64_t t,
                   std::size_t i) {
    close_flight(m, from, to, t);
    add(m, Segment::Kind::kFlight, from, to, t, EnvelopeState::kTravelling, i);
    flights_[{m, from, to}] = out_.size() - 1;
  }
  void close_flight(const std::string& m, const std::string& from, const std::string& to, std::int64_t t) {
    if (auto it = flights_.find({m, from, to}); it != flights_.end()) {
      out_[it->second].end_us = t;
      flights_.erase(it);
    }
  }
  // Ends every open flight of `m` whose end `which` (1: from, 2: to) is `host`.
  template <std::size_t which>
  void close_flights_at(const std::string& m, const std::string& host, std::int64_t t) {
    for (auto it = flights_.begin(); it != flights_.end();) {
      if (std::get<0>(it->first) == m && std::get<which>(it->first) == host) {
        out_[it->second].end_us = t;
        it = flights_.erase(it);
      } else {
        ++it;
      }
    }
  }
  void close_flights_to(const std::string& m, const std::string& to, std::int64_t t) { close_flights_at<2>(m, to, t); }
  void close_flights_from(const std::string& m, const std::string& from, std::int64_t t) {
    close_flights_at<1>(m, from, t);
  }
  void add_final(const std::string& m, const std::string& host, std::int64_t t, EnvelopeState state, std::size_t i) {
    close_stay(m, host, t);
    add(m, Segment::Kind::kFinal, host, "", t, state, i);
  }

  std::vector<Segment>& out_;
  std::map<std::pair<std::string, std::string>, std::size_t> stays_;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> flights_;
  std::set<std::string> bounces_;
};

}  // namespace

Journeys::Journeys(const std::vector<sim::TraceEvent>& events) {
  Builder b(segments_);
  for (std::size_t i = 0; i < events.size(); ++i) b.event(events[i], i);
  b.finish();
  // A flight still open when the trace ends stops there.
  const std::int64_t last = events.empty() ? 0 : events.back().time_us;
  for (auto& s : segments_) {
    if (s.kind == Segment::Kind::kFlight && s.end_us == std::numeric_limits<std::int64_t>::max()) s.end_us = last;
  }
}

std::vector<Envelope> Journeys::at(std::int64_t t) const {
  std::vector<Envelope> out;
  for (const auto& s : segments_) {
    if (t < s.start_us) continue;
    if (s.kind == Segment::Kind::kFinal) {
      out.push_back({&s, 1.0});
    } else if (t < s.end_us || (s.kind == Segment::Kind::kFlight && t == s.end_us && s.end_us == s.start_us)) {
      double progress = 0;
      if (s.kind == Segment::Kind::kFlight && s.end_us > s.start_us) {
        progress = static_cast<double>(t - s.start_us) / static_cast<double>(s.end_us - s.start_us);
      }
      out.push_back({&s, progress});
    }
  }
  return out;
}

}  // namespace smtplab::viz
