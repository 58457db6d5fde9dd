// Time as agents see it: "now" and "call me back later". The simulator's
// Scheduler is one (virtual time); the loopback runtime has a real-time one.
// Agents never read a system clock themselves, so the same agent code runs in
// both worlds and a virtual-time run is deterministic.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/time/time.h"

namespace smtplab::sim {

using TimerId = std::uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Time since the start of the run.
  virtual absl::Duration now() const = 0;
  // Wall-clock time of the run's start, for Date and Received headers.
  virtual absl::Time epoch() const = 0;
  virtual TimerId schedule(absl::Duration delay, std::function<void()> callback) = 0;
  virtual bool cancel(TimerId id) = 0;

  absl::Time wall_now() const { return epoch() + now(); }
};

}  // namespace smtplab::sim
