// For the model's tests: the trace of a library scenario's run (seed 1).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::viz {

inline std::vector<sim::TraceEvent> trace_of(const std::string& library_file) {
  auto loaded = scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/" + library_file);
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  if (!loaded.ok()) return {};
  scenarios::ScenarioWorld world(*loaded.scenario, 1);
  EXPECT_TRUE(world.build().ok());
  world.run();
  return world.trace.events();
}

}  // namespace smtplab::viz
