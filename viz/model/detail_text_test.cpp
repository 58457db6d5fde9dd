// The details pane reads as people write (issue 19): a retry time is a
// clock and a wait, not microseconds.
#include "viz/model/detail_text.hpp"

#include <gtest/gtest.h>

#include "sim/trace/trace_kinds.hpp"

namespace smtplab::viz {
namespace {

TEST(DetailTextTest, NextAttemptIsAClockAndAWait) {
  sim::TraceEvent e;
  e.time_us = 266'021;
  EXPECT_EQ(detail_text(e, sim::detail_key::kNextAttemptUs, "300266021"), "next attempt: 00:05:00.266, 5m later");
  EXPECT_EQ(detail_text(e, sim::detail_key::kNextAttemptUs, "soon"), "next attempt: (soon?)");
}

TEST(DetailTextTest, MessageTextIsSummarised) {
  sim::TraceEvent e;
  EXPECT_EQ(detail_text(e, sim::detail_key::kHeaders, "From: a\r\nTo: b\r\n"),
            "headers: 16 octets, 2 lines (the Message section shows them)");
  EXPECT_EQ(detail_text(e, sim::detail_key::kRecipient, "bob@example.net"), "recipient: bob@example.net");
}

}  // namespace
}  // namespace smtplab::viz
