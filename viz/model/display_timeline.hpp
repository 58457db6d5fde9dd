// Maps virtual time to display time so a run stays watchable: a 100 ms SMTP
// exchange is slowed down enough to follow, a 300 s greylisting wait is
// compressed to a couple of seconds (the clock still shows virtual time).
// The mapping is piecewise linear between events, so positions interpolate
// smoothly and the whole run has one scrubbable length.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

struct TimelineSettings {
  double slow_motion = 10.0;    // display seconds per virtual second for short gaps
  double longest_gap = 2.5;     // display seconds a gap is compressed to, at most
};

class DisplayTimeline {
 public:
  DisplayTimeline() = default;
  DisplayTimeline(const std::vector<sim::TraceEvent>& events, TimelineSettings settings = {});
  // One more event at the end (a live run).
  void append(const sim::TraceEvent& event);

  // Display time (seconds from the start) at which event `index` happens.
  double at_event(std::size_t index) const { return display_[index]; }
  double length() const { return display_.empty() ? 0.0 : display_.back(); }
  // Virtual microseconds shown at display time `d` (inverse of the mapping).
  std::int64_t virtual_at(double d) const;
  double display_at_virtual(std::int64_t virtual_us) const;
  // How many events have happened by display time `d` (events at exactly d included).
  std::size_t events_by(double d) const;

 private:
  TimelineSettings settings_;
  std::vector<std::int64_t> virtual_;  // per event
  std::vector<double> display_;        // per event, non-decreasing
};

}  // namespace smtplab::viz
