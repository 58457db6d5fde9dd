// Virtual time as people read it: what the stepper, the expectations and the
// visualizer print (issue 19: "retry in 5m", never "4m59.99982s").
#include "sim/time_text.hpp"

#include <gtest/gtest.h>

namespace smtplab::sim {
namespace {

TEST(TimeTextTest, ClockShowsMillisecondsAndDays) {
  EXPECT_EQ(clock_text(0), "00:00:00.000");
  EXPECT_EQ(clock_text(300'266'000), "00:05:00.266");
  EXPECT_EQ(clock_text(2 * 86'400'000'000LL + 3 * 3'600'000'000LL), "2d 03:00:00.000");
}

TEST(TimeTextTest, DurationsAreRoundedToWhatMattersAtTheirSize) {
  EXPECT_EQ(duration_text(absl::Microseconds(20)), "20us");
  EXPECT_EQ(duration_text(absl::Milliseconds(250)), "250ms");
  EXPECT_EQ(duration_text(absl::Microseconds(10'400)), "10ms");
  EXPECT_EQ(duration_text(absl::Milliseconds(1500)), "1.5s");
  EXPECT_EQ(duration_text(absl::Seconds(2)), "2s");
  EXPECT_EQ(duration_text(absl::Seconds(45)), "45s");
  EXPECT_EQ(duration_text(absl::Minutes(5)), "5m");
  EXPECT_EQ(duration_text(absl::Microseconds(299'999'820)), "5m");  // the 4m59.99982s
  EXPECT_EQ(duration_text(absl::Seconds(270)), "4m30s");
  EXPECT_EQ(duration_text(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(duration_text(absl::Seconds(4000)), "1h6m40s");  // Postfix maximal_backoff_time
  EXPECT_EQ(duration_text(absl::Hours(24 * 5)), "5d");
  EXPECT_EQ(duration_text(absl::Hours(60)), "2d12h");
  EXPECT_EQ(duration_text(absl::Hours(120) + absl::Milliseconds(316)), "5d");
  EXPECT_EQ(duration_text(absl::Hours(120) + absl::Seconds(30)), "5d30s");
}

TEST(TimeTextTest, CountdownsRoundUp) {
  EXPECT_EQ(countdown_text(absl::Milliseconds(299'400)), "5m");
  EXPECT_EQ(countdown_text(absl::Milliseconds(400)), "1s");
  EXPECT_EQ(countdown_text(absl::ZeroDuration()), "0s");
}

}  // namespace
}  // namespace smtplab::sim
