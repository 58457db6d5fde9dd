// Reads a scenario file (YAML) into a Scenario, checking everything an
// instructor can get wrong: unknown keys (with the nearest valid one
// suggested), wrong types, bad addresses, durations and reply codes, hosts
// that do not exist. Each problem names FILE:LINE:COLUMN. A bad file never
// crashes anything.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "scenarios/scenario.hpp"

namespace smtplab::scenarios {

struct LoadError {
  std::string file;
  Where where;
  std::string message;
  std::string to_string() const;  // "file:3:5: message"
};

struct LoadResult {
  std::optional<Scenario> scenario;  // set when there are no errors
  std::vector<LoadError> errors;
  bool ok() const { return errors.empty() && scenario.has_value(); }
  std::string error_text() const;  // all errors, one per line
};

LoadResult load_scenario_file(const std::string& path);
// `name` is used in messages as the file name.
LoadResult load_scenario_text(const std::string& text, const std::string& name);

// Host names a scenario's world has, for validation and suggestions.
std::vector<std::string> scenario_host_names(const Scenario& scenario);

// The longest duration a scenario may write (ten years of virtual time):
// longer ones are typos, and would overflow the clock's arithmetic.
inline constexpr absl::Duration kLongestScenarioDuration = absl::Hours(24 * 3650);

// "300s", "5m", "1h30m", "1d12h", "250ms", or a number of seconds; the grammar
// is at the definition, and scenarios/testdata/durations.txt shows it.
absl::StatusOr<absl::Duration> parse_scenario_duration(const std::string& text);
// "10k", "2M", or a number of octets.
absl::StatusOr<std::size_t> parse_scenario_size(const std::string& text);

}  // namespace smtplab::scenarios
