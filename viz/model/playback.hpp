// The visualizer's model: a trace, a cursor into it and the controls a
// student uses (play, pause, step, step back, next message event, scrub,
// speed), the world as it stands at the cursor, and the envelopes to draw.
// Plain C++, no window: views read it, tests drive it.
//
// Stepping back is a replay (the trace is deterministic): from the nearest
// snapshot, kept every kSnapshotEvery events, so it stays cheap on long runs.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/trace/trace_event.hpp"
#include "viz/model/display_timeline.hpp"
#include "viz/model/journeys.hpp"
#include "viz/model/topology.hpp"
#include "viz/model/world_state.hpp"

namespace smtplab::viz {

class Playback {
 public:
  // Snapshots at least this far apart, and at most kMaxSnapshots of them, so
  // memory stays bounded on runs of a million events.
  static constexpr std::size_t kSnapshotEvery = 256;
  static constexpr std::size_t kMaxSnapshots = 128;

  explicit Playback(std::vector<sim::TraceEvent> events, TimelineSettings timeline = {});

  // More events of a run still going on (a followed file, a live stream).
  // In live mode playing does not stop at the end: it waits for more.
  void append(const std::vector<sim::TraceEvent>& more);
  void set_live(bool live) { live_ = live; }
  bool live() const { return live_; }

  // Controls.
  void play() { playing_ = cursor_ < events_.size() || display_ < timeline_.length(); }
  void pause() { playing_ = false; }
  void toggle() { playing_ ? pause() : play(); }
  bool playing() const { return playing_; }
  void set_speed(double speed) { speed_ = speed; }
  double speed() const { return speed_; }
  // Real seconds passed since the last frame: time flows if playing.
  void tick(double real_seconds);
  void step_forward();                 // one event
  void step_back();                    // one event
  void next_message_event();           // to the next queue/mailbox/message event
  void previous_message_event();
  void seek_display(double display_seconds);  // the scrubber
  void seek_event(std::size_t index);         // make event `index` the last one applied
  void seek_virtual(std::int64_t virtual_us);  // to a moment of the run (--at)

  // Where we are.
  std::size_t cursor() const { return cursor_; }  // events applied
  double display_time() const { return display_; }
  double length() const { return timeline_.length(); }
  std::int64_t virtual_now() const;
  const WorldState& state() const { return state_; }
  const std::vector<sim::TraceEvent>& events() const { return events_; }
  // The event shown in the explanation panel: the last applied, unless the
  // user picked another.
  std::optional<std::size_t> selected() const;
  void select(std::size_t index) { selected_ = index; }

  const Journeys& journeys() const { return journeys_; }
  std::vector<Envelope> envelopes() const { return journeys_.at(virtual_now()); }
  Topology& topology() { return topology_; }
  const Topology& topology() const { return topology_; }

 private:
  void move_cursor(std::size_t target);

  std::vector<sim::TraceEvent> events_;
  DisplayTimeline timeline_;
  Journeys journeys_;
  Topology topology_;
  void add_event(sim::TraceEvent event);
  void relayout();

  WorldState latest_;  // after every event: where snapshots come from
  bool dns_seen_ = false;
  bool live_ = false;
  std::size_t snapshot_every_ = kSnapshotEvery;
  std::vector<WorldState> snapshots_;  // snapshots_[k]: after k * snapshot_every_ events
  WorldState state_;
  std::size_t cursor_ = 0;
  double display_ = 0;
  bool playing_ = false;
  double speed_ = 1.0;
  std::optional<std::size_t> selected_;
};

}  // namespace smtplab::viz
