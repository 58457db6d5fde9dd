#include "viz/app/trace_source.hpp"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capture/capture_import.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::viz {

std::string default_scenario_path() { return std::string(SMTPLAB_LIBRARY_DIR) + "/greylisting.yaml"; }

absl::StatusOr<LoadedTrace> load_trace_source(const std::string& given) {
  const std::string path = given.empty() ? default_scenario_path() : given;
  LoadedTrace out;
  if (capture::is_capture_file(path)) {
    auto imported = capture::import_capture(path);
    if (!imported.ok()) return imported.status();
    if (imported->events.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": no SMTP connection in this capture (ports 25, 465, 587, 2525, 24)"));
    }
    out.title = absl::StrCat("Capture ", path.substr(path.find_last_of('/') + 1));
    out.events = std::move(imported->events);
    return out;
  }
  if (absl::EndsWith(path, ".jsonl")) {
    auto events = sim::read_jsonl(path);
    if (!events.ok()) return events.status();
    if (events->empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": the trace has no events"));
    out.title = path.substr(path.find_last_of('/') + 1);
    out.events = std::move(*events);
    return out;
  }
  auto loaded = scenarios::load_scenario_file(path);
  if (!loaded.ok()) return absl::InvalidArgumentError(loaded.error_text());
  scenarios::ScenarioWorld world(*loaded.scenario, loaded.scenario->seed);
  if (auto s = world.build(); !s.ok()) return absl::InternalError(absl::StrCat(path, ": ", s.message()));
  world.run();
  out.title = loaded.scenario->title;
  out.lesson_before = loaded.scenario->lesson_before;
  out.lesson_after = loaded.scenario->lesson_after;
  out.events = world.trace.events();
  return out;
}

}  // namespace smtplab::viz
