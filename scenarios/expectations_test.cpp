// What an expectation's result says, when it holds and when it does not: the
// description shows every filter it has, and a failure says what happened
// instead of what was looked for (issue 19: "never deferred" was said of a
// deferral that had another text).
#include "scenarios/expectations.hpp"

#include <gtest/gtest.h>

#include "scenarios/scenario_loader.hpp"

namespace smtplab::scenarios {
namespace {

// A greylisting receiver: one 451 from mx.example.net and one deferral at
// mx.example.org (RFC 5321 4.5.4.1: the sender retries), then delivery.
constexpr const char* kGreylisting =
    "domains:\n"
    "  example.org: {users: [alice]}\n"
    "  example.net: {users: [bob], greylisting: {delay: 300s}}\n"
    "send:\n"
    "  - {from: alice@example.org, to: bob@example.net}\n"
    "expect:\n";

std::vector<ExpectationResult> results_of(const std::string& expectations) {
  const LoadResult loaded = load_scenario_text(std::string(kGreylisting) + expectations, "e.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  if (!loaded.ok()) return {};
  static std::vector<Scenario> keep;  // results point at their spec
  keep.push_back(*loaded.scenario);
  ScenarioWorld world(keep.back(), keep.back().seed);
  EXPECT_TRUE(world.build().ok());
  world.run();
  return check_expectations(keep.back(), world);
}

TEST(ExpectationsTest, DeferralWithAnotherTextIsShownNotDenied) {
  const auto r = results_of("  - deferred: {to: bob@example.net, text: mailbox full}\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].met);
  EXPECT_EQ(r[0].expected, "delivery is deferred for bob@example.net with \"mailbox full\"");
  EXPECT_EQ(r[0].found.rfind("no deferral like that; 1 deferral(s) without \"mailbox full\", the first at ", 0), 0u)
      << r[0].found;
  EXPECT_NE(r[0].found.find("451 4.7.1"), std::string::npos) << r[0].found;  // what was said instead
}

TEST(ExpectationsTest, MatchingTextHolds) {
  const auto r = results_of("  - deferred: {to: bob@example.net, text: Greylisted, by: 1m}\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].met) << r[0].found;
  EXPECT_EQ(r[0].expected, "delivery is deferred for bob@example.net with \"Greylisted\" by 1m");
  EXPECT_EQ(r[0].found.rfind("1 deferral(s), the first at ", 0), 0u) << r[0].found;
}

TEST(ExpectationsTest, ReplyFromAnotherHostIsShown) {
  const auto r = results_of("  - reply: {code: 451, host: submit.example.org}\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].met);
  EXPECT_EQ(r[0].expected, "a 451 reply from submit.example.org");
  EXPECT_NE(r[0].found.find("; 1 451 reply(s) at other hosts, the first at mx.example.net at "), std::string::npos)
      << r[0].found;
}

TEST(ExpectationsTest, EventWithAnotherTextIsShown) {
  const auto r = results_of("  - event: {kind: queue.defer, text: quota}\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].met);
  EXPECT_EQ(r[0].expected, "a queue.defer event mentioning \"quota\"");
  EXPECT_NE(r[0].found.find("1 queue.defer event(s) without \"quota\""), std::string::npos) << r[0].found;
}

}  // namespace
}  // namespace smtplab::scenarios
