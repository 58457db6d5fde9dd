// --pcap FILE and --keylog FILE on the commands that run a world (run,
// step): the wire log is attached before the world is built, and the
// capture written once it has run (capture/capture_export.hpp).
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "capture/wire_log.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::cli {

class RunCapture {
 public:
  // Reads the flags; opens the key log and attaches a wire log to `world`
  // as they ask. Call before world.build().
  static absl::StatusOr<RunCapture> from_flags(scenarios::ScenarioWorld& world);
  // Writes the capture and closes the key log, saying so on stderr.
  absl::Status finish(const scenarios::ScenarioWorld& world);

 private:
  std::string pcap_path_, keylog_path_;
  std::unique_ptr<capture::WireLog> log_;
};

}  // namespace smtplab::cli
