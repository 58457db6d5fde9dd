// The virtual clock and event queue of the simulator, in the manner of ns-3's
// Simulator::Schedule: callbacks run in time order, and events at the same
// instant run in the order they were scheduled, so a run is a pure function of
// its inputs and seed. A 5-minute greylisting delay costs no wall time.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "sim/clock.hpp"

namespace smtplab::sim {

class Scheduler : public Clock {
 public:
  // `epoch` is the wall-clock time the run pretends to start at (Date headers).
  explicit Scheduler(std::uint64_t seed = 1, absl::Time epoch = absl::FromUnixSeconds(1767225600))  // 2026-01-01
      : rng_(seed), epoch_(epoch) {}

  // Virtual time since the start of the run.
  absl::Duration now() const override { return now_; }
  absl::Time epoch() const override { return epoch_; }
  std::int64_t now_micros() const { return absl::ToInt64Microseconds(now_); }

  TimerId schedule(absl::Duration delay, std::function<void()> callback) override;
  TimerId schedule_at(absl::Duration when, std::function<void()> callback);
  // False if the timer already ran or was cancelled.
  bool cancel(TimerId id) override;

  // Runs the next event; false when there is none.
  bool run_one();
  // Runs events up to and including time `until`, then sets the clock there.
  void run_until(absl::Duration until);
  // Runs until no events remain or `max_events` ran; returns how many ran.
  std::size_t run(std::size_t max_events = SIZE_MAX);

  std::size_t pending() const { return callbacks_.size(); }
  std::uint64_t events_run() const { return events_run_; }
  // The run's only source of randomness. std::mt19937_64 is specified by the
  // standard, so a seed gives the same numbers on every platform.
  std::mt19937_64& rng() { return rng_; }

 private:
  struct Entry {
    absl::Duration when;
    std::uint64_t sequence;
    TimerId id;
    bool operator>(const Entry& o) const {
      return when != o.when ? when > o.when : sequence > o.sequence;
    }
  };
  absl::Duration now_ = absl::ZeroDuration();
  std::uint64_t next_sequence_ = 0;
  TimerId next_id_ = 1;
  std::uint64_t events_run_ = 0;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  absl::flat_hash_map<TimerId, std::function<void()>> callbacks_;
  std::mt19937_64 rng_;
  absl::Time epoch_;
};

}  // namespace smtplab::sim
