#include "viz/model/playback.hpp"

#include <algorithm>

namespace smtplab::viz {

Playback::Playback(std::vector<sim::TraceEvent> events, TimelineSettings timeline)
    : events_(std::move(events)), timeline_(events_, timeline), journeys_(events_) {
  snapshot_every_ = std::max(kSnapshotEvery, events_.size() / kMaxSnapshots + 1);
  WorldState s;
  snapshots_.push_back(s);
  bool dns = false;
  for (std::size_t i = 0; i < events_.size(); ++i) {
    s.apply(events_[i], i);
    dns = dns || events_[i].agent == "dns";
    if ((i + 1) % snapshot_every_ == 0) snapshots_.push_back(s);
  }
  topology_ = Topology(s, journeys_, dns);
}

std::int64_t Playback::virtual_now() const {
  if (events_.empty()) return 0;
  // While stepping, the clock shows the last applied event's time.
  if (!playing_ && cursor_ > 0 && timeline_.at_event(cursor_ - 1) == display_) return events_[cursor_ - 1].time_us;
  return timeline_.virtual_at(display_);
}

std::optional<std::size_t> Playback::selected() const {
  if (selected_ && *selected_ < cursor_) return selected_;
  if (cursor_ == 0) return std::nullopt;
  return cursor_ - 1;
}

void Playback::move_cursor(std::size_t target) {
  target = std::min(target, events_.size());
  if (target < cursor_) {
    // Replay from the snapshot at or before the target.
    const std::size_t k = target / snapshot_every_;
    state_ = snapshots_[k];
    cursor_ = k * snapshot_every_;
  }
  while (cursor_ < target) {
    state_.apply(events_[cursor_], cursor_);
    ++cursor_;
  }
  if (selected_ && *selected_ >= cursor_) selected_.reset();
}

void Playback::tick(double real_seconds) {
  if (!playing_) return;
  display_ = std::min(timeline_.length(), display_ + real_seconds * speed_);
  move_cursor(timeline_.events_by(display_));
  if (display_ >= timeline_.length()) playing_ = false;
}

void Playback::step_forward() {
  pause();
  if (cursor_ >= events_.size()) return;
  move_cursor(cursor_ + 1);
  display_ = timeline_.at_event(cursor_ - 1);
  selected_.reset();
}

void Playback::step_back() {
  pause();
  if (cursor_ == 0) return;
  move_cursor(cursor_ - 1);
  display_ = cursor_ == 0 ? 0 : timeline_.at_event(cursor_ - 1);
  selected_.reset();
}

void Playback::next_message_event() {
  pause();
  std::size_t i = cursor_;
  while (i < events_.size() && !sim::is_message_level(events_[i])) ++i;
  if (i >= events_.size()) {
    seek_event(events_.size());
    return;
  }
  seek_event(i + 1);
}

void Playback::previous_message_event() {
  pause();
  // The latest message-level event before the last applied one.
  for (std::size_t i = cursor_ > 0 ? cursor_ - 1 : 0; i > 0;) {
    --i;
    if (sim::is_message_level(events_[i])) {
      seek_event(i + 1);
      return;
    }
  }
  seek_event(0);
}

void Playback::seek_display(double d) {
  display_ = std::clamp(d, 0.0, timeline_.length());
  move_cursor(timeline_.events_by(display_));
  selected_.reset();
}

void Playback::seek_virtual(std::int64_t t) { seek_display(timeline_.display_at_virtual(t)); }

void Playback::seek_event(std::size_t n) {
  move_cursor(n);
  display_ = cursor_ == 0 ? 0 : timeline_.at_event(cursor_ - 1);
  selected_.reset();
}

}  // namespace smtplab::viz
