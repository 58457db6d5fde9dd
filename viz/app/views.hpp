// The visualizer's views: functions that draw the playback model with Dear
// ImGui. They read the model and change it only through its controls.
#pragma once

#include <string>
#include <vector>

#include <imgui.h>

#include "viz/app/palette.hpp"
#include "viz/app/trace_source.hpp"
#include "viz/model/playback.hpp"

namespace smtplab::viz {

// Something drawn at a known pixel, for the screenshot test and for picking.
struct Placed {
  std::string what;  // "node", "envelope"
  std::string name;  // host, or message id
  float x = 0, y = 0;
  Rgb colour{};
};

struct ViewState {
  std::string dragging;          // host being dragged
  std::string selected_message;  // message id shown in the inspector
  bool show_help = false;
  bool scroll_transcript = true;
  std::vector<Placed> placed;    // filled by draw_topology each frame
};

void draw_topology(Playback& playback, ViewState& view, ImVec2 pos, ImVec2 size);
void draw_timeline(Playback& playback, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size);
void draw_transcript(Playback& playback, ViewState& view, ImVec2 pos, ImVec2 size);
void draw_details(Playback& playback, ViewState& view, const LoadedTrace& trace, ImVec2 pos, ImVec2 size);
void draw_help(ViewState& view);
// Space, arrows, N/P, Home/End, H.
void handle_keys(Playback& playback, ViewState& view);

// "5m12.3s" for a virtual duration, "00:05:12.345" for a clock.
std::string clock_text(std::int64_t virtual_us);
std::string duration_text(std::int64_t virtual_us);

}  // namespace smtplab::viz
