#include "sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smtplab::sim {
namespace {

TEST(SchedulerTest, RunsInTimeOrderAndAdvancesTheClock) {
  Scheduler s;
  std::string order;
  s.schedule(absl::Seconds(300), [&] { order += "c"; });
  s.schedule(absl::Seconds(1), [&] { order += "a"; });
  s.schedule(absl::Seconds(2), [&] {
    order += "b";
    EXPECT_EQ(s.now(), absl::Seconds(2));
    s.schedule(absl::Seconds(1), [&] { order += "B"; });  // at 3 s
  });
  EXPECT_EQ(s.run(), 4u);
  EXPECT_EQ(order, "abBc");
  EXPECT_EQ(s.now(), absl::Seconds(300));
}

// Determinism: simultaneous events run in the order they were scheduled.
TEST(SchedulerTest, TiesRunInSchedulingOrder) {
  Scheduler s;
  std::string order;
  for (char c : std::string("hello")) s.schedule(absl::Seconds(5), [&order, c] { order += c; });
  s.run();
  EXPECT_EQ(order, "hello");
}

TEST(SchedulerTest, CancelledTimersDoNotRun) {
  Scheduler s;
  bool ran = false;
  const TimerId id = s.schedule(absl::Seconds(1), [&] { ran = true; });
  EXPECT_TRUE(s.cancel(id));
  EXPECT_FALSE(s.cancel(id));
  EXPECT_EQ(s.run(), 0u);
  EXPECT_FALSE(ran);
}

TEST(SchedulerTest, RunUntilStopsAtTheTime) {
  Scheduler s;
  int count = 0;
  s.schedule(absl::Seconds(1), [&] { ++count; });
  s.schedule(absl::Seconds(10), [&] { ++count; });
  s.run_until(absl::Seconds(5));
  EXPECT_EQ(count, 1);
  EXPECT_EQ(s.now(), absl::Seconds(5));
  s.run_until(absl::Seconds(10));
  EXPECT_EQ(count, 2);
}

TEST(SchedulerTest, SameSeedSameNumbers) {
  Scheduler a(42), b(42), c(43);
  EXPECT_EQ(a.rng()(), b.rng()());
  EXPECT_NE(Scheduler(42).rng()(), c.rng()());
}

}  // namespace
}  // namespace smtplab::sim
