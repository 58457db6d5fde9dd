// What `run`, `step` and `validate` share: finding and loading a scenario
// (printing its errors), running it, and printing the verdict.
#pragma once

#include <optional>
#include <string>

#include "cli/terminal.hpp"
#include "scenarios/expectations.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::cli {

// The scenario `smtplab step` runs when given none.
std::string default_scenario_path();
std::string library_dir();

// Loads FILE; on errors prints them (FILE:LINE:COLUMN: ...) to stderr.
std::optional<scenarios::Scenario> load_or_report(const std::string& path);

// Prints the lesson's closing text, the summary and each expectation; true
// if every expectation was met.
bool print_verdict(const scenarios::Scenario& scenario, const scenarios::ScenarioWorld& world,
                   const scenarios::RunSummary& summary, const Style& style);

}  // namespace smtplab::cli
