#include "viz/model/playback.hpp"

#include <algorithm>

namespace smtplab::viz {

Playback::Playback(std::vector<sim::TraceEvent> events, TimelineSettings timeline) : timeline_({}, timeline) {
  snapshot_every_ = std::max(kSnapshotEvery, events.size() / kMaxSnapshots + 1);
  snapshots_.push_back(latest_);
  events_.reserve(events.size());
  for (auto& e : events) add_event(std::move(e));
  journeys_ = Journeys(events_);
  relayout();
}

void Playback::add_event(sim::TraceEvent event) {
  const std::size_t i = events_.size();
  timeline_.append(event);
  latest_.apply(event, i);
  dns_seen_ = dns_seen_ || event.agent == "dns";
  events_.push_back(std::move(event));
  if (events_.size() % snapshot_every_ == 0) {
    snapshots_.push_back(latest_);
    if (snapshots_.size() > 2 * kMaxSnapshots) {
      // A long live run: keep every other snapshot, twice as far apart.
      std::vector<WorldState> fewer;
      for (std::size_t k = 0; k < snapshots_.size(); k += 2) fewer.push_back(std::move(snapshots_[k]));
      snapshots_ = std::move(fewer);
      snapshot_every_ *= 2;
    }
  }
}

void Playback::relayout() {
  Topology fresh(latest_, journeys_, dns_seen_);
  fresh.keep_moves_from(topology_);
  topology_ = std::move(fresh);
}

void Playback::append(const std::vector<sim::TraceEvent>& more) {
  if (more.empty()) return;
  for (const auto& e : more) add_event(e);
  // Journeys and layout depend on the whole run: rebuilt, once per batch.
  journeys_ = Journeys(events_);
  relayout();
  if (live_ && !playing_ && cursor_ + more.size() == events_.size()) play();  // we were waiting at the end
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
  if (display_ >= timeline_.length() && !live_) playing_ = false;
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
