#include "scenarios/explanations.hpp"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

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

sim::TraceEvent reply_to(std::string answers, int code, std::string text) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kSmtpReply;
  e.code = code;
  e.text = std::move(text);
  e.explain = absl::StrCat("reply.", code);
  e.details = {{sim::detail_key::kAnswers, std::move(answers)}};
  return e;
}

// A reply is explained by what it answers, not by its code alone: the same
// 250 lists extensions after EHLO (RFC 5321 4.1.1.1), takes a sender after
// MAIL (4.1.1.2) or one recipient after RCPT (4.1.1.3), and only after the
// final dot means the server is responsible for the message (6.1).
TEST(ExplanationsTest, ReplyIsExplainedByWhatItAnswers) {
  const std::string responsible = "taken responsibility";
  const std::string to_ehlo = explain_event(reply_to("EHLO", 250, "250-mx.example.net greets c.example"));
  EXPECT_NE(to_ehlo.find("The answer to EHLO"), std::string::npos) << to_ehlo;
  EXPECT_EQ(to_ehlo.find(responsible), std::string::npos) << to_ehlo;
  const std::string to_mail = explain_event(reply_to("MAIL", 250, "250 2.1.0 Sender <a@b> OK"));
  EXPECT_NE(to_mail.find("envelope sender"), std::string::npos) << to_mail;
  EXPECT_NE(to_mail.find("RFC 5321 4.1.1.2"), std::string::npos) << to_mail;
  EXPECT_EQ(to_mail.find(responsible), std::string::npos) << to_mail;
  const std::string to_rcpt = explain_event(reply_to("RCPT", 250, "250 2.1.5 Recipient <b@c> OK"));
  EXPECT_NE(to_rcpt.find("accepts this recipient"), std::string::npos) << to_rcpt;
  EXPECT_EQ(to_rcpt.find(responsible), std::string::npos) << to_rcpt;
  const std::string to_dot = explain_event(reply_to("end_of_data", 250, "250 2.0.0 Ok: queued as Q1"));
  EXPECT_NE(to_dot.find(responsible), std::string::npos) << to_dot;
  EXPECT_NE(explain_event(reply_to("greeting", 220, "220 mx ESMTP")).find("greeting"), std::string::npos);
  EXPECT_NE(explain_event(reply_to("STARTTLS", 220, "220 2.0.0 Ready")).find("TLS handshake"), std::string::npos);
  // One line of the EHLO reply is explained as the extension it names.
  const std::string size = explain_event(reply_to("EHLO", 250, "250-SIZE 10240000"));
  EXPECT_NE(size.find("RFC 1870"), std::string::npos) << size;
}

// A refusal keeps the code's meaning and says what it refuses: one
// recipient (RFC 5321 4.1.1.3), or the message, kept by the sender for a
// 4xx (4.5.4.1) and returned for a 5xx.
TEST(ExplanationsTest, RefusalSaysWhatItRefuses) {
  const std::string rcpt = explain_event(reply_to("RCPT", 550, "550 5.1.1 No such user"));
  EXPECT_NE(rcpt.find("only this recipient is refused"), std::string::npos) << rcpt;
  EXPECT_NE(rcpt.find("mailbox unavailable"), std::string::npos) << rcpt;  // the code's own meaning stays
  const std::string later = explain_event(reply_to("end_of_data", 451, "451 4.3.0 cannot store"));
  EXPECT_NE(later.find("tries again later"), std::string::npos) << later;
  const std::string never = explain_event(reply_to("end_of_data", 554, "554 5.6.0 bare LF"));
  EXPECT_NE(never.find("bounce"), std::string::npos) << never;
  const std::string unasked = explain_event(reply_to("nothing", 421, "421 4.4.2 timeout"));
  EXPECT_NE(unasked.find("unasked"), std::string::npos) << unasked;
}

// The stepper shows the EHLO reply's lines as one step: its explanation
// covers every extension listed, and not the last line alone.
TEST(ExplanationsTest, MultiLineEhloReplyIsExplainedWhole) {
  const std::vector<sim::TraceEvent> lines = {reply_to("EHLO", 250, "250-mx greets c"),
                                              reply_to("EHLO", 250, "250-PIPELINING"),
                                              reply_to("EHLO", 250, "250-STARTTLS"),
                                              reply_to("EHLO", 250, "250 HELP")};
  const std::string all = explain_reply_lines(lines);
  EXPECT_EQ(all.rfind("The answer to EHLO", 0), 0u) << all;
  for (const char* rfc : {"RFC 2920", "RFC 3207", "RFC 5321 4.1.1.8"}) EXPECT_NE(all.find(rfc), std::string::npos) << rfc;
}

sim::TraceEvent dns_event(sim::EventKind kind, std::string type, std::string purpose, std::string explain) {
  sim::TraceEvent e;
  e.kind = kind;
  e.explain = std::move(explain);
  e.details = {{sim::detail_key::kType, std::move(type)}, {sim::detail_key::kPurpose, std::move(purpose)}};
  return e;
}

// RFC 5321 5.1: a DNS answer is explained by its type and why it was asked.
// An A answer says nothing of MX preferences; NXDOMAIN for the mail domain
// bounces, for one MX host it only means trying the next.
TEST(ExplanationsTest, DnsIsExplainedByTypeAndPurpose) {
  using K = sim::EventKind;
  const std::string mx = explain_event(dns_event(K::kDnsAnswer, "MX", "mail_domain", "dns.noerror"));
  EXPECT_NE(mx.find("lowest preference first"), std::string::npos) << mx;
  const std::string a = explain_event(dns_event(K::kDnsAnswer, "A", "exchanger", "dns.noerror"));
  EXPECT_EQ(a.find("preference"), std::string::npos) << a;
  EXPECT_NE(a.find("address"), std::string::npos) << a;
  const std::string gone = explain_event(dns_event(K::kDnsAnswer, "MX", "mail_domain", "dns.nxdomain"));
  EXPECT_NE(gone.find("bounces"), std::string::npos) << gone;
  const std::string skip = explain_event(dns_event(K::kDnsAnswer, "A", "exchanger", "dns.nxdomain"));
  EXPECT_NE(skip.find("tries the next"), std::string::npos) << skip;
  EXPECT_EQ(skip.find("The message bounces"), std::string::npos) << skip;
  const std::string implicit = explain_event(dns_event(K::kDnsQuery, "A", "implicit_mx", "dns.query.a"));
  EXPECT_NE(implicit.find("implicit MX"), std::string::npos) << implicit;
  const std::string smarthost = explain_event(dns_event(K::kDnsQuery, "A", "named_host", "dns.query.a"));
  EXPECT_NE(smarthost.find("looks up no MX"), std::string::npos) << smarthost;
}

// A hop that failed is explained by how: a host that never answered did not
// send the 451 4.4.1 (the sender's own status, RFC 3463), and a TLS policy
// that stopped the sender is not a refusal by the host (RFC 3207 4.1).
TEST(ExplanationsTest, HopFailureSaysWhoSaidWhat) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kQueueHopFailed;
  e.details = {{sim::detail_key::kFailure, "not_reached"}};
  const std::string silent = explain_event(e);
  EXPECT_NE(silent.find("not a reply from the host"), std::string::npos) << silent;
  e.details = {{sim::detail_key::kFailure, "tls_policy"}};
  const std::string policy = explain_event(e);
  EXPECT_NE(policy.find("the host refused nothing"), std::string::npos) << policy;
  e.details = {{sim::detail_key::kFailure, "turned_away"}};
  const std::string refused = explain_event(e);
  EXPECT_NE(refused.find("the reply quoted is its own"), std::string::npos) << refused;
}

// message.submit describes this submission, not every way there is: its
// port, whether TLS is used and how (RFC 3207 STARTTLS, RFC 8314 implicit),
// and whether the client logs in (RFC 4954).
TEST(ExplanationsTest, SubmissionSaysWhatThisClientDoes) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kMessageSubmit;
  e.details = {{sim::detail_key::kPort, "587"}, {sim::detail_key::kPolicy, "none"}, {sim::detail_key::kUser, "alice"}};
  const std::string plain = explain_event(e);
  EXPECT_NE(plain.find("port 587, in plaintext"), std::string::npos) << plain;
  EXPECT_NE(plain.find("logs in as alice"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("465"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("RFC 8314"), std::string::npos) << plain;
  e.details = {{sim::detail_key::kPort, "465"}, {sim::detail_key::kPolicy, "implicit"}};
  const std::string implicit = explain_event(e);
  EXPECT_NE(implicit.find("TLS from the first byte"), std::string::npos) << implicit;
  EXPECT_NE(implicit.find("does not log in"), std::string::npos) << implicit;
  EXPECT_EQ(implicit.find("STARTTLS"), std::string::npos) << implicit;
  e.details = {{sim::detail_key::kPort, "587"}, {sim::detail_key::kPolicy, "verify"}, {sim::detail_key::kUser, "a"}};
  EXPECT_NE(explain_event(e).find("STARTTLS before anything else and checking"), std::string::npos);
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
