// Checks a scenario's expectations against what happened: the trace and the
// state the world ended in. Each result says what was expected, in words,
// and what was found.
#pragma once

#include <string>
#include <vector>

#include "scenarios/scenario.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::scenarios {

struct ExpectationResult {
  const ExpectSpec* spec = nullptr;
  bool met = false;
  std::string expected;  // "bob@example.net receives a message by 10m"
  std::string found;     // "delivered at 0h05m00.123s"
};

std::vector<ExpectationResult> check_expectations(const Scenario& scenario, const ScenarioWorld& world);

}  // namespace smtplab::scenarios
