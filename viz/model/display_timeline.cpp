#include "viz/model/display_timeline.hpp"

#include <algorithm>
#include <cmath>

namespace smtplab::viz {

DisplayTimeline::DisplayTimeline(const std::vector<sim::TraceEvent>& events, TimelineSettings settings)
    : settings_(settings) {
  virtual_.reserve(events.size());
  display_.reserve(events.size());
  for (const auto& e : events) append(e);
}

void DisplayTimeline::append(const sim::TraceEvent& e) {
  const std::int64_t last = virtual_.empty() ? e.time_us : virtual_.back();
  const double gap_s = static_cast<double>(std::max<std::int64_t>(0, e.time_us - last)) / 1e6;
  const double d = (display_.empty() ? 0.0 : display_.back()) + std::min(gap_s * settings_.slow_motion, settings_.longest_gap);
  virtual_.push_back(std::max(e.time_us, last));
  display_.push_back(d);
}

std::size_t DisplayTimeline::events_by(double d) const {
  return static_cast<std::size_t>(std::upper_bound(display_.begin(), display_.end(), d) - display_.begin());
}

std::int64_t DisplayTimeline::virtual_at(double d) const {
  if (display_.empty()) return 0;
  const std::size_t n = events_by(d);
  if (n == 0) return virtual_.front();
  if (n >= display_.size()) return virtual_.back();
  // Between event n-1 and event n: linear.
  const double d0 = display_[n - 1], d1 = display_[n];
  const double f = d1 > d0 ? (d - d0) / (d1 - d0) : 1.0;
  return virtual_[n - 1] + std::llround(f * static_cast<double>(virtual_[n] - virtual_[n - 1]));
}

double DisplayTimeline::display_at_virtual(std::int64_t t) const {
  if (virtual_.empty()) return 0;
  const auto it = std::upper_bound(virtual_.begin(), virtual_.end(), t);
  const std::size_t n = static_cast<std::size_t>(it - virtual_.begin());
  if (n == 0) return 0;
  if (n >= virtual_.size()) return display_.back();
  const std::int64_t v0 = virtual_[n - 1], v1 = virtual_[n];
  const double f = v1 > v0 ? static_cast<double>(t - v0) / static_cast<double>(v1 - v0) : 1.0;
  return display_[n - 1] + f * (display_[n] - display_[n - 1]);
}

}  // namespace smtplab::viz
