// The visualizer's views: functions that draw the playback model with Dear
// ImGui. They read the model and change it only through its controls.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <imgui.h>

#include "viz/app/palette.hpp"
#include "viz/app/trace_source.hpp"
#include "sim/time_text.hpp"
#include "viz/model/ladder.hpp"
#include "viz/model/playback.hpp"

namespace smtplab::viz {

// Something drawn at a known pixel, for the screenshot test and for picking.
struct Placed {
  std::string what;  // "node", "envelope"
  std::string name;  // host, or message id
  float x = 0, y = 0;
  Rgb colour{};
};

// The ladder drawn last, kept while neither the selection nor the trace
// changes; the index is rebuilt only when the trace grows.
struct LadderCache {
  std::string scope;  // "m" + message id, or "c" + connection number
  std::optional<std::size_t> for_selected;
  std::size_t events = 0;
  std::optional<LadderIndex> index;  // of the trace as it was `events` long
  Ladder ladder;
  std::optional<std::size_t> scrolled_to;  // the selection the rows last scrolled to
};

// What the big pane shows: the hosts and envelopes, or the ladder diagram.
enum class MainView { kTopology, kLadder };

struct ViewState {
  MainView main_view = MainView::kTopology;
  LadderCache ladder;
  std::string dragging;          // host being dragged
  std::string selected_message;  // message id shown in the inspector
  bool show_help = false;
  bool scroll_transcript = true;
  std::vector<Placed> placed;    // filled by draw_topology each frame
};

void draw_topology(Playback& playback, ViewState& view, ImVec2 pos, ImVec2 size);
void draw_timeline(Playback& playback, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size);
void draw_ladder(Playback& playback, ViewState& view, ImVec2 pos, ImVec2 size);
void draw_transcript(Playback& playback, ViewState& view, ImVec2 pos, ImVec2 size);
void draw_details(Playback& playback, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size);
void draw_help(ViewState& view);
// Space, arrows, N/P, Home/End, L, H.
void handle_keys(Playback& playback, ViewState& view);

// "00:05:12.345" for a moment of the run, "retry in 5m" for a wait (one
// place for both: sim/time_text.hpp).
inline std::string clock_text(std::int64_t virtual_us) { return sim::clock_text(virtual_us); }
inline std::string countdown_text(std::int64_t virtual_us) { return sim::countdown_text(absl::Microseconds(virtual_us)); }

}  // namespace smtplab::viz
