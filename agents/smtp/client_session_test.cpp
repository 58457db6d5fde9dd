// The client against scripted server replies: what it sends at each step.
#include "agents/smtp/client_session.hpp"

#include <gtest/gtest.h>

namespace smtplab::smtp {
namespace {

OutgoingMessage one_message() {
  OutgoingMessage m;
  m.reverse_path = parse_path("<a@a.example>").value();
  m.recipients.push_back(Recipient{parse_path("<b@b.example>").value(), {}});
  m.content = "Subject: x\r\n\r\nbody\r\n";
  return m;
}

// RFC 5321 3.2: an old server that rejects EHLO gets HELO.
TEST(ClientSessionTest, FallsBackToHelo) {
  ClientSession c({.helo_domain = "me.example"});
  c.enqueue(one_message());
  c.receive("220 old.example\r\n");
  EXPECT_EQ(c.take_output(), "EHLO me.example\r\n");
  c.receive("500 what?\r\n");
  EXPECT_EQ(c.take_output(), "HELO me.example\r\n");
  c.receive("250 old.example\r\n");
  // No extensions known: no PIPELINING, no SIZE parameter.
  EXPECT_EQ(c.take_output(), "MAIL FROM:<a@a.example>\r\n");
  EXPECT_EQ(c.waiting(), ClientSession::Waiting::kMail);
}

// One message queued, the greeting read and EHLO sent; then `ehlo_reply`.
void greet(ClientSession& c, std::string_view ehlo_reply) {
  c.enqueue(one_message());
  c.receive("220 x\r\n");
  c.take_output();
  c.receive(ehlo_reply);
}

TEST(ClientSessionTest, DeclaresSizeWhenOffered) {
  ClientSession c({});
  greet(c, "250-x\r\n250 SIZE 1000\r\n");
  EXPECT_EQ(c.take_output(), "MAIL FROM:<a@a.example> SIZE=20\r\n");
}

// RFC 5321 3.8: 421 at any point ends the session; the message defers.
TEST(ClientSessionTest, ServerClosingMidSession) {
  ClientSession c({});
  c.enqueue(one_message());
  c.receive("220 x\r\n250 x\r\n421 4.3.2 shutting down\r\n");
  EXPECT_TRUE(c.done());
  ASSERT_TRUE(c.results()[0].done);
  EXPECT_EQ(c.results()[0].deciding_reply()->code, 421);
}

// RFC 2920 3.1: with PIPELINING the RCPT after a refused MAIL is refused
// too ("503 need MAIL"); the recipient's outcome is the MAIL refusal, so a
// temporary one is retried, not bounced on the 503.
TEST(ClientSessionTest, RefusedMailDecidesForPipelinedRecipients) {
  ClientSession c({});
  greet(c, "250-x\r\n250 PIPELINING\r\n");
  EXPECT_EQ(c.take_output(), "MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n");
  c.receive("452 4.3.1 Insufficient system storage\r\n503 5.5.1 Need MAIL command first\r\n"
            "503 5.5.1 Need MAIL command first\r\n");
  ASSERT_TRUE(c.results()[0].done);
  const Reply* r = c.results()[0].recipient_reply(0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, 452);
  EXPECT_EQ(r->enhanced, "4.3.1");
  EXPECT_EQ(c.results()[0].deciding_reply()->code, 452);
}

TEST(ClientSessionTest, MalformedReplyFailsCleanly) {
  ClientSession c({});
  c.enqueue(one_message());
  c.receive("220 x\r\nHTTP/1.1 400 Bad Request\r\n");
  EXPECT_TRUE(c.done());
  EXPECT_NE(c.failure().find("malformed reply"), std::string::npos);
  EXPECT_TRUE(c.results()[0].done);
  EXPECT_FALSE(c.results()[0].accepted());
}

// RFC 1047: connection lost after the final dot: the message may have been
// delivered, and a retry may duplicate it.
TEST(ClientSessionTest, LostAfterDotIsMarkedMaybeDelivered) {
  ClientSession c({});
  c.enqueue(one_message());
  c.receive("220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  EXPECT_EQ(c.waiting(), ClientSession::Waiting::kDataEnd);
  c.connection_closed("reset by peer");
  EXPECT_TRUE(c.results()[0].maybe_delivered);
  EXPECT_FALSE(c.results()[0].accepted());
}

// RFC 2920 3.1: pipelined DATA accepted with no valid recipient: send ".".
TEST(ClientSessionTest, PipelinedDataWithNoRecipientSendsLoneDot) {
  ClientSession c({});
  greet(c, "250-x\r\n250 PIPELINING\r\n");
  EXPECT_EQ(c.take_output(), "MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n");
  c.receive("250 ok\r\n550 5.1.1 no\r\n354 go\r\n");
  EXPECT_EQ(c.take_output(), ".\r\n");
  c.receive("554 no valid recipients\r\n");
  EXPECT_TRUE(c.results()[0].done);
  EXPECT_FALSE(c.results()[0].accepted());
  EXPECT_EQ(c.results()[0].deciding_reply()->code, 550);
}

// A server that greets twice: the second 220 arrives as the "EHLO reply".
// The client gives up, and a positive reply is never mistaken for delivery.
TEST(ClientSessionTest, PositiveReplyOutOfPlaceIsNotSuccess) {
  ClientSession c({});
  c.enqueue(one_message());
  c.finish();
  c.receive("220 a\r\n220 b\r\n");
  ASSERT_TRUE(c.results()[0].done);
  EXPECT_FALSE(c.results()[0].accepted());
  EXPECT_EQ(c.results()[0].deciding_reply()->code, 451);
  EXPECT_NE(c.take_output().find("QUIT"), std::string::npos);
}

// RFC 5321 3.1: after a 554 greeting the client says QUIT.
TEST(ClientSessionTest, RefusedGreetingGetsQuit) {
  ClientSession c({});
  c.enqueue(one_message());
  c.receive("554 no service\r\n");
  EXPECT_EQ(c.take_output(), "QUIT\r\n");
  c.receive("221 bye\r\n");
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.results()[0].deciding_reply()->code, 554);
}

// Without PIPELINING, a refused MAIL moves on to the next message or QUIT.
TEST(ClientSessionTest, RefusedMailMovesOn) {
  ClientSession c({});
  c.enqueue(one_message());
  c.finish();
  c.receive("220 x\r\n250 x\r\n");
  c.take_output();
  c.receive("550 5.7.1 not you\r\n");
  EXPECT_EQ(c.take_output(), "QUIT\r\n");
}

// Parameters for extensions the server did not offer are not sent (RFC 3461 4).
TEST(ClientSessionTest, DropsParametersTheServerDoesNotOffer) {
  ClientSession c({});
  OutgoingMessage m = one_message();
  m.params.ret = "HDRS";
  m.params.envid = "e1";
  m.recipients[0].params.notify = {"FAILURE"};
  c.enqueue(m);
  c.receive("220 x\r\n");
  c.take_output();
  c.receive("250-x\r\n250 8BITMIME\r\n");
  EXPECT_EQ(c.take_output(), "MAIL FROM:<a@a.example>\r\n");
  c.receive("250 ok\r\n");
  EXPECT_EQ(c.take_output(), "RCPT TO:<b@b.example>\r\n");
}

TEST(ClientSessionTest, UnsolicitedReplyIsAnError) {
  ClientSession c({});
  c.receive("220 x\r\n250 x\r\n");
  EXPECT_EQ(c.waiting(), ClientSession::Waiting::kIdle);
  c.receive("250 surprise\r\n");
  EXPECT_TRUE(c.done());
  EXPECT_NE(c.failure().find("unexpected reply"), std::string::npos);
}

}  // namespace
}  // namespace smtplab::smtp
