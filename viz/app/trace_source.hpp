// Where the visualizer's trace comes from: a scenario run in-process right
// now, a recorded .jsonl file, or a capture read back. A broken file is an error that names
// FILE:LINE:COLUMN, for the window and for stderr alike.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

struct LoadedTrace {
  std::string title;        // the scenario's title, or the file name
  std::string lesson_before;
  std::string lesson_after;
  std::vector<sim::TraceEvent> events;
};

// `path` ending in .jsonl is a trace; a capture (.pcap, .pcapng, or one by
// its first octets) is read back into one (capture/capture_import.hpp);
// anything else a scenario file. An empty path is the default scenario (the
// greylisting lesson).
absl::StatusOr<LoadedTrace> load_trace_source(const std::string& path);
std::string default_scenario_path();

}  // namespace smtplab::viz
