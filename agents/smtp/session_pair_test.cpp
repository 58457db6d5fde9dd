// The engine's client against its own server, in memory: a transaction works
// end to end, and the protocol features change the wire as the RFCs say.
#include <gtest/gtest.h>

#include "agents/smtp/client_session.hpp"
#include "agents/smtp/server_session.hpp"
#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/smtp/testing/session_pair.hpp"

namespace smtplab::smtp {
namespace {

using testing::RecordingPolicy;
using testing::run_pair;

OutgoingMessage message_to(std::vector<std::string> locals, std::string content = "Subject: t\r\n\r\nhello\r\n") {
  OutgoingMessage m;
  m.reverse_path = parse_path("<alice@a.example>").value();
  for (const auto& local : locals) {
    m.recipients.push_back(Recipient{parse_path("<" + local + "@b.example>").value(), {}});
  }
  m.content = std::move(content);
  return m;
}

TEST(SessionPairTest, DeliversWithPerRecipientResults) {
  RecordingPolicy policy;
  ServerSession server(policy, {}, "peer");
  ClientSession client({});
  client.enqueue(message_to({"bob", "nobody", "later", "carol"}));
  client.finish();
  run_pair(client, server);
  ASSERT_TRUE(client.done());
  ASSERT_EQ(client.results().size(), 1u);
  const auto& r = client.results()[0];
  EXPECT_TRUE(r.accepted());
  EXPECT_TRUE(r.recipient_accepted(0));
  EXPECT_FALSE(r.recipient_accepted(1));
  EXPECT_EQ(r.rcpt_replies[1]->code, 550);
  EXPECT_EQ(r.rcpt_replies[2]->code, 450);
  EXPECT_TRUE(r.recipient_accepted(3));
  ASSERT_EQ(policy.stored.size(), 1u);
  EXPECT_EQ(policy.stored[0].envelope.recipients.size(), 2u);
  EXPECT_EQ(policy.stored[0].message, "Subject: t\r\n\r\nhello\r\n");
}

// RFC 2920: with PIPELINING the envelope goes in one write; without it, one
// command per round trip. The result is the same.
TEST(SessionPairTest, PipeliningSavesRoundTrips) {
  auto run = [](PipeliningMode mode) {
    RecordingPolicy policy;
    ServerSession server(policy, {}, "peer");
    ClientSettings settings;
    settings.pipelining = mode;
    ClientSession client(settings);
    client.enqueue(message_to({"b1", "b2", "b3"}));
    client.finish();
    auto log = run_pair(client, server);
    EXPECT_TRUE(client.results()[0].accepted());
    EXPECT_EQ(policy.stored.size(), 1u);
    return log.client_writes;
  };
  const int piped = run(PipeliningMode::kAuto);
  const int serial = run(PipeliningMode::kOff);
  // EHLO, MAIL+3 RCPT+DATA, text, QUIT = 4 writes; serial: EHLO, MAIL, 3 RCPT, DATA, text, QUIT = 8.
  EXPECT_EQ(piped, 4);
  EXPECT_EQ(serial, 8);
}

// RFC 5321 4.5.2: dot-stuffed on the wire, unstuffed in the store.
TEST(SessionPairTest, DotLinesSurviveTheTrip) {
  RecordingPolicy policy;
  ServerSession server(policy, {}, "peer");
  ClientSession client({});
  const std::string content = "Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n";
  client.enqueue(message_to({"bob"}, content));
  client.finish();
  auto log = run_pair(client, server);
  EXPECT_NE(log.client_to_server.find("\r\n..\r\n...\r\n..leading\r\n.\r\n"), std::string::npos);
  ASSERT_EQ(policy.stored.size(), 1u);
  EXPECT_EQ(policy.stored[0].message, content);
}

// RFC 3030: BDAT carries the message as is.
TEST(SessionPairTest, BdatWhenChunkingOffered) {
  RecordingPolicy policy;
  ServerSession server(policy, {}, "peer");
  ClientSettings settings;
  settings.use_bdat = true;
  ClientSession client(settings);
  const std::string content = "Subject: b\r\n\r\n.not stuffed\r\n";
  client.enqueue(message_to({"bob"}, content));
  client.finish();
  auto log = run_pair(client, server);
  EXPECT_NE(log.client_to_server.find("BDAT " + std::to_string(content.size()) + " LAST\r\n" + content),
            std::string::npos);
  ASSERT_EQ(policy.stored.size(), 1u);
  EXPECT_EQ(policy.stored[0].message, content);
}

TEST(SessionPairTest, SeveralMessagesOnOneConnection) {
  RecordingPolicy policy;
  ServerSession server(policy, {}, "peer");
  ClientSession client({});
  client.enqueue(message_to({"a"}));
  client.enqueue(message_to({"nobody"}));  // refused: no recipient, so no DATA
  client.enqueue(message_to({"c"}));
  client.finish();
  run_pair(client, server);
  ASSERT_EQ(client.results().size(), 3u);
  EXPECT_TRUE(client.results()[0].accepted());
  EXPECT_FALSE(client.results()[1].accepted());
  EXPECT_EQ(client.results()[1].deciding_reply()->code, 550);
  EXPECT_TRUE(client.results()[2].accepted());
  EXPECT_EQ(policy.stored.size(), 2u);
}

// RFC 3207 + RFC 4954: STARTTLS, EHLO again, then AUTH over TLS.
TEST(SessionPairTest, StarttlsThenAuth) {
  RecordingPolicy policy;
  ServerSettings server_settings;
  server_settings.offer_starttls = true;
  server_settings.offer_auth = true;
  ServerSession server(policy, server_settings, "peer");
  ClientSettings settings;
  settings.starttls = ClientTlsMode::kRequired;
  settings.auth = ClientCredentials{"alice", "s3cret"};
  ClientSession client(settings);
  client.enqueue(message_to({"bob"}));
  client.finish();
  auto log = run_pair(client, server);
  EXPECT_TRUE(client.tls_active());
  ASSERT_TRUE(client.results()[0].accepted()) << client.failure();
  EXPECT_EQ(policy.stored[0].authenticated_user, "alice");
  // Two EHLOs: before and after TLS (RFC 3207 4.2).
  EXPECT_EQ(log.client_to_server.find("AUTH") > log.client_to_server.rfind("EHLO"), true);
}

// A client that requires TLS never sends AUTH or mail in plaintext.
TEST(SessionPairTest, RequiredTlsWithoutStarttlsDefers) {
  RecordingPolicy policy;
  ServerSettings server_settings;
  server_settings.offer_auth = true;
  server_settings.auth_requires_tls = false;
  ServerSession server(policy, server_settings, "peer");
  ClientSettings settings;
  settings.starttls = ClientTlsMode::kRequired;
  settings.auth = ClientCredentials{"alice", "s3cret"};
  ClientSession client(settings);
  client.enqueue(message_to({"bob"}));
  client.finish();
  auto log = run_pair(client, server);
  EXPECT_EQ(log.client_to_server.find("AUTH"), std::string::npos);
  EXPECT_EQ(log.client_to_server.find("MAIL"), std::string::npos);
  EXPECT_FALSE(client.results()[0].accepted());
  EXPECT_EQ(client.results()[0].deciding_reply()->klass(), 4);  // defers, not bounces
}

TEST(SessionPairTest, LoginMechanismWhenPlainMissing) {
  // A server that only offers LOGIN: our client walks the 334 prompts.
  RecordingPolicy policy;
  ServerSettings server_settings;
  server_settings.offer_auth = true;
  server_settings.auth_requires_tls = false;
  ServerSession server(policy, server_settings, "peer");
  ClientSettings settings;
  settings.auth = ClientCredentials{"alice", "s3cret"};
  ClientSession client(settings);
  client.enqueue(message_to({"bob"}));
  client.finish();
  run_pair(client, server);
  EXPECT_TRUE(client.results()[0].accepted()) << client.failure();
}

// RFC 2033 4.1-4.2: an LMTP client says LHLO and hears one reply per
// accepted recipient after the text; a full mailbox refuses only its own,
// the others are delivered. Pipelined or not, the results are the same.
TEST(SessionPairTest, LmtpSettlesEachRecipientAfterTheText) {
  for (const PipeliningMode mode : {PipeliningMode::kAuto, PipeliningMode::kOff}) {
    RecordingPolicy policy;
    ServerSettings server_settings;
    server_settings.lmtp = true;
    ServerSession server(policy, server_settings, "peer");
    ClientSettings settings;
    settings.lmtp = true;
    settings.pipelining = mode;
    settings.use_bdat = true;  // never over LMTP
    ClientSession client(settings);
    client.enqueue(message_to({"bob", "nobody", "full", "carol"}));
    client.finish();
    const auto log = run_pair(client, server);
    ASSERT_TRUE(client.done());
    EXPECT_EQ(log.client_to_server.rfind("LHLO localhost\r\n", 0), 0u) << log.client_to_server;
    EXPECT_EQ(log.client_to_server.find("BDAT"), std::string::npos);
    const auto& r = client.results()[0];
    ASSERT_EQ(r.delivery_replies.size(), 4u);
    EXPECT_TRUE(r.recipient_accepted(0));
    EXPECT_FALSE(r.recipient_accepted(1));
    EXPECT_EQ(r.recipient_reply(1)->code, 550);  // refused at RCPT: no reply after the text
    EXPECT_FALSE(r.delivery_replies[1].has_value());
    EXPECT_FALSE(r.recipient_accepted(2));
    EXPECT_EQ(r.recipient_reply(2)->code, 452);
    EXPECT_EQ(r.recipient_reply(2)->enhanced, "4.2.2");
    EXPECT_TRUE(r.recipient_accepted(3));
    EXPECT_EQ(r.recipient_reply(3)->text(), "<carol@b.example> Ok: delivered as 1");
    EXPECT_TRUE(r.accepted());  // some recipient has it
    ASSERT_EQ(policy.stored.size(), 1u);
    EXPECT_EQ(policy.stored[0].envelope.recipients.size(), 2u);
  }
}

// A connection lost between two of the per-recipient replies: the
// recipient already answered is delivered, the rest are not settled (the
// sender's queue keeps them; RFC 2033 4.2 makes each reply a promise).
TEST(SessionPairTest, LmtpRepliesHeardBeforeALostConnectionStand) {
  ClientSettings settings;
  settings.lmtp = true;
  ClientSession client(settings);
  client.enqueue(message_to({"bob", "carol"}));
  client.receive("220 mda ready\r\n");
  client.receive("250-mda\r\n250 PIPELINING\r\n");
  client.receive("250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  client.receive("250 2.0.0 <bob@b.example> delivered\r\n");
  client.connection_closed("reset by peer");
  const auto& r = client.results()[0];
  EXPECT_TRUE(r.recipient_accepted(0));
  EXPECT_FALSE(r.recipient_accepted(1));
  EXPECT_TRUE(r.maybe_delivered);  // carol's copy may or may not have been filed
}

}  // namespace
}  // namespace smtplab::smtp
