// Every scenario in the library is a test: it loads without errors, runs,
// meets all its expectations, and loses nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agents/audit/delivery_audit.hpp"
#include "scenarios/expectations.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::scenarios {
namespace {

std::vector<std::string> library_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(SMTPLAB_LIBRARY_DIR)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class LibraryTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LibraryTest, RunsAndMeetsItsExpectations) {
  const LoadResult loaded = load_scenario_file(GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.error_text();
  const Scenario& s = *loaded.scenario;
  EXPECT_FALSE(s.title.empty());
  EXPECT_FALSE(s.summary.empty());
  EXPECT_FALSE(s.lesson_before.empty());
  EXPECT_FALSE(s.expects.empty()) << "a library scenario must test something";
  ScenarioWorld world(s, s.seed);
  ASSERT_TRUE(world.build().ok());
  const RunSummary summary = world.run();
  EXPECT_TRUE(summary.drained) << "still running at max_duration";
  for (const auto& r : check_expectations(s, world)) {
    EXPECT_TRUE(r.met) << GetParam() << ":" << r.spec->where.line << ": expected " << r.expected << ", found "
                       << r.found;
  }
  const auto audit = agents::audit_deliveries(world.trace.events(), summary.drained);
  EXPECT_TRUE(audit.ok()) << audit.summary() << "\n" << (audit.problems.empty() ? "" : audit.problems[0]);
}

// The golden trace: each lesson's whole trace, committed beside it
// (scenarios/library/golden/NAME.jsonl, written by scripts/golden-traces).
// Work that must not change behaviour (refactoring, speed) provably does not;
// a change that should alter a lesson's story regenerates the file, and the
// diff shows what a student now sees differently.
TEST_P(LibraryTest, TraceEqualsItsGoldenTrace) {
  const std::filesystem::path file(GetParam());
  const std::filesystem::path golden = file.parent_path() / "golden" / (file.stem().string() + ".jsonl");
  std::ifstream in(golden, std::ios::binary);
  ASSERT_TRUE(in) << golden << " is missing: run scripts/golden-traces";
  std::vector<std::string> expected;
  for (std::string line; std::getline(in, line);) expected.push_back(line);

  const LoadResult loaded = load_scenario_file(GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.error_text();
  ScenarioWorld world(*loaded.scenario, loaded.scenario->seed);
  ASSERT_TRUE(world.build().ok());
  world.run();
  const auto& events = world.trace.events();
  for (std::size_t i = 0; i < std::min(events.size(), expected.size()); ++i) {
    const std::string actual = sim::to_json_line(events[i]);
    ASSERT_EQ(actual, expected[i]) << golden << ": the first difference is at line " << i + 1;
  }
  EXPECT_EQ(events.size(), expected.size()) << golden << ": the run has another number of events";
}

INSTANTIATE_TEST_SUITE_P(Library, LibraryTest, ::testing::ValuesIn(library_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// Same scenario, same seed: byte-identical trace.
// RFC 6409 4.3 / RFC 4954: the MSA refuses a sender who did not log in. The
// summary counts the attempt as submitted and says it was refused, so a
// run with nothing delivered does not look like mail that vanished.
TEST(LibrarySummary, ARefusedSubmissionIsCountedAsRefused) {
  const LoadResult loaded = load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/submission-without-auth.yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error_text();
  ScenarioWorld world(*loaded.scenario, loaded.scenario->seed);
  ASSERT_TRUE(world.build().ok());
  const RunSummary summary = world.run();
  EXPECT_EQ(summary.submitted, 1u);
  EXPECT_EQ(summary.refused, 1u);
  EXPECT_EQ(summary.delivered, 0u);
}

TEST(LibraryDeterminism, SameSeedSameTrace) {
  const LoadResult loaded = load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/greylisting.yaml");
  ASSERT_TRUE(loaded.ok());
  auto run = [&] {
    ScenarioWorld w(*loaded.scenario, 5);
    EXPECT_TRUE(w.build().ok());
    w.run();
    return w.trace.events();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace smtplab::scenarios
