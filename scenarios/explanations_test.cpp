#include "scenarios/explanations.hpp"

#include <gtest/gtest.h>

namespace smtplab::scenarios {
namespace {

TEST(ExplanationsTest, ReplyCodesCiteTheRfc) {
  EXPECT_NE(explain_reply_code(451)->find("RFC 5321 4.2.3"), std::string::npos);
  EXPECT_NE(explain_reply_code(530)->find("RFC 4954"), std::string::npos);
  EXPECT_NE(explain_reply_code(556)->find("RFC 7505"), std::string::npos);
  EXPECT_NE(explain_reply_code(299)->find("Positive completion"), std::string::npos);  // undefined but in a class
  EXPECT_FALSE(explain_reply_code(199).has_value());
}

TEST(ExplanationsTest, EnhancedCodes) {
  EXPECT_EQ(*explain_enhanced_code("5.1.1"),
            "5.1.1: Permanent failure; bad destination mailbox address (no such user) (RFC 3463 3).");
  EXPECT_NE(explain_enhanced_code("4.7.1")->find("Persistent transient"), std::string::npos);
  EXPECT_FALSE(explain_enhanced_code("3.1.1").has_value());
  EXPECT_FALSE(explain_enhanced_code("5.1").has_value());
}

TEST(ExplanationsTest, QueryAcceptsCodesAndEventKinds) {
  EXPECT_TRUE(explain_query("451").has_value());
  EXPECT_TRUE(explain_query("5.7.1").has_value());
  EXPECT_NE(explain_query("queue.defer")->find("4.5.4.1"), std::string::npos);
  EXPECT_FALSE(explain_query("banana").has_value());
}

// The stepper's "why": greylisting is named as such, with its RFC, because
// the policy that refused said so (reply.451.greylisted), not because of
// the reply's wording.
TEST(ExplanationsTest, GreylistReplyIsExplainedByItsRefinement) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kSmtpReply;
  e.code = 451;
  e.text = "451 4.7.1 Greylisted, try again in 300 seconds";
  e.explain = "reply.451.greylisted";
  const std::string text = explain_event(e);
  EXPECT_NE(text.find("This is greylisting"), std::string::npos);
  EXPECT_NE(text.find("RFC 6647"), std::string::npos);
  EXPECT_NE(text.find("4.7.1: Persistent transient failure"), std::string::npos);
  // The same words from another server's 451 (a full disk, say) are not greylisting.
  e.explain = "reply.451";
  EXPECT_EQ(explain_event(e).find("This is greylisting"), std::string::npos);
  // `smtplab explain` takes the refined key as the trace has it.
  ASSERT_TRUE(explain_query("reply.451.greylisted").has_value());
  EXPECT_NE(explain_query("reply.451.greylisted")->find("RFC 6647"), std::string::npos);
  EXPECT_FALSE(explain_query("reply.451.banana").has_value());
}

TEST(ExplanationsTest, QueueWaitSaysWhen) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kQueueWait;
  e.time_us = 1000000;
  e.details = {{"next_attempt_us", "301000000"}};
  EXPECT_NE(explain_event(e).find("retry in 5m"), std::string::npos) << explain_event(e);
}

}  // namespace
}  // namespace smtplab::scenarios
