// The whole chain in virtual time: MUA -> MSA -> MTA -> MTA -> MDA, and the
// ways the RFCs say it bends: greylisting, MX fallback, bounces with DSNs,
// relay refusal, DNS failures, queue expiry, mail loops.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "agents/message_headers.hpp"
#include "agents/policies/greylist.hpp"
#include "agents/received_header.hpp"
#include "agents/testing/mail_world.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::agents {
namespace {

using testing::MailWorld;

std::vector<const sim::TraceEvent*> events_of(const sim::Trace& trace, sim::EventKind kind,
                                              std::string_view host = {}) {
  std::vector<const sim::TraceEvent*> out;
  for (const auto& e : trace.events()) {
    if (e.kind == kind && (host.empty() || e.host == host)) out.push_back(&e);
  }
  return out;
}

TEST(MailChainTest, OneMessageTravelsTheWholeChain) {
  MailWorld w;
  const std::string id = w.send({"bob@example.net"});
  w.run();
  const auto& box = w.net_mda->mailbox("bob");
  ASSERT_EQ(box.size(), 1u);
  EXPECT_EQ(box[0].message_id, id);
  // RFC 5321 4.4: a Received header per hop: MSA, mx.example.org, mx1.example.net, the MDA.
  EXPECT_EQ(count_received_headers(box[0].content), 4);
  EXPECT_TRUE(absl::StartsWith(box[0].content, "Return-Path: <alice@example.org>\r\n"));
  // Store and forward: each MTA queued it and handed it on.
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kQueueRelay, "submit.example.org").size(), 1u);
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kQueueRelay, "mx.example.org").size(), 1u);
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kQueueRelay, "mx1.example.net").size(), 1u);
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kMailboxDeliver).size(), 1u);
  EXPECT_TRUE(w.msa->queue().empty());
  EXPECT_TRUE(w.mx1->queue().empty());
  // The MX lookup happened on the hop that needed it.
  EXPECT_FALSE(events_of(w.trace, sim::EventKind::kDnsQuery, "mx.example.org").empty());
  // The queue entry names the connection it came in on, whose 250 said so.
  const auto* enqueued = events_of(w.trace, sim::EventKind::kQueueEnqueue, "mx1.example.net").at(0);
  ASSERT_NE(enqueued->connection, 0u);
  bool acknowledged = false;
  for (const auto* e : events_of(w.trace, sim::EventKind::kSmtpReply, "mx1.example.net")) {
    acknowledged |= e->connection == enqueued->connection && e->text.find("queued as Q000001") != std::string::npos;
  }
  EXPECT_TRUE(acknowledged);
  // Every SMTP line is in the trace, seen from the server side.
  bool saw_auth = false;
  for (const auto* e : events_of(w.trace, sim::EventKind::kSmtpReply, "submit.example.org")) saw_auth |= e->code == 235;
  EXPECT_TRUE(saw_auth);
}

// Same inputs + same seed = byte-identical trace.
TEST(MailChainTest, TraceIsDeterministic) {
  auto run = [] {
    MailWorld w({.seed = 9});
    w.send({"bob@example.net", "carol@example.net"});
    w.send({"nobody@example.net"});
    w.run();
    std::string all;
    for (const auto& e : w.trace.events()) all += sim::to_json_line(e) + "\n";
    return all;
  };
  const std::string first = run();
  EXPECT_GT(first.size(), 1000u);
  EXPECT_EQ(first, run());
}

// RFC 6647: greylisted once, retried after Postfix's minimal backoff (300 s).
TEST(MailChainTest, GreylistedThenDeliveredOnRetry) {
  MailWorld w;
  w.mx1->add_policy(std::make_shared<GreylistPolicy>(w.scheduler));
  w.send({"bob@example.net"});
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  const auto defers = events_of(w.trace, sim::EventKind::kQueueDefer, "mx.example.org");
  ASSERT_EQ(defers.size(), 1u);
  EXPECT_NE(defers[0]->text.find("451 4.7.1 Greylisted"), std::string::npos);
  EXPECT_GE(w.net_mda->mailbox("bob")[0].delivered_at, absl::Seconds(300));
  EXPECT_LT(w.net_mda->mailbox("bob")[0].delivered_at, absl::Seconds(310));
}

// RFC 5321 5.1: when the preferred MX does not answer, the next one is tried.
TEST(MailChainTest, FallsBackToTheBackupMx) {
  MailWorld w;
  w.network.set_host_up("mx1.example.net", false);
  w.send({"bob@example.net"});
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  const auto failed = events_of(w.trace, sim::EventKind::kQueueHopFailed, "mx.example.org");
  ASSERT_EQ(failed.size(), 1u);
  // A host that never answered is not quoted as if it had: the 451 4.4.1 is
  // the sender's own queue status (RFC 3463 4.4.1), and the failure is named.
  EXPECT_EQ(failed[0]->text.rfind("mx1.example.net not reached: ", 0), 0u) << failed[0]->text;
  EXPECT_NE(failed[0]->text.find("(queue status 451 4.4.1)"), std::string::npos) << failed[0]->text;
  ASSERT_NE(failed[0]->detail(sim::detail_key::kFailure), nullptr);
  EXPECT_EQ(*failed[0]->detail(sim::detail_key::kFailure), "not_reached");
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kQueueRelay, "mx2.example.net").size(), 1u);
}

// 550 5.1.1 from the MDA: the MTA bounces with an RFC 3464 DSN that reaches the sender.
TEST(MailChainTest, UnknownUserBouncesToTheSender) {
  MailWorld w;
  w.send({"nobody@example.net"});
  w.run();
  const auto& alice = w.org_mda->mailbox("alice");
  ASSERT_EQ(alice.size(), 1u);
  const std::string& dsn = alice[0].content;
  EXPECT_TRUE(absl::StartsWith(dsn, "Return-Path: <>\r\n")) << dsn.substr(0, 200);
  EXPECT_NE(dsn.find("multipart/report; report-type=delivery-status"), std::string::npos);
  EXPECT_NE(dsn.find("Final-Recipient: rfc822; nobody@example.net"), std::string::npos);
  EXPECT_NE(dsn.find("Action: failed"), std::string::npos);
  EXPECT_NE(dsn.find("Status: 5.1.1"), std::string::npos);
  EXPECT_NE(dsn.find("Diagnostic-Code: smtp; 550 5.1.1"), std::string::npos);
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kMessageDsn, "mx1.example.net").size(), 1u);
}

// A bounce that cannot be delivered is dropped, never bounced (RFC 5321 4.5.5).
TEST(MailChainTest, BouncesAreNeverBounced) {
  MailWorld w;
  w.network.stop_listening("mail.example.org", 24);  // nobody takes example.org mail any more
  w.org_mda = nullptr;
  w.dns.set("mail.example.org", {.failure = sim::DnsFailure::kNone});  // no address: unroutable
  w.send({"nobody@example.net"});
  w.run();
  EXPECT_EQ(events_of(w.trace, sim::EventKind::kQueueBounceDropped).size(), 1u);
}

// No open relay: a stranger may not relay through mx1 to another domain.
TEST(MailChainTest, OpenRelayRefused) {
  MailWorld w;
  (void)w.network.add_host("stranger.example", "203.0.113.9");
  smtp::ClientSession session({.helo_domain = "stranger.example"});
  smtp::OutgoingMessage m;
  m.reverse_path = smtp::parse_path("<spam@stranger.example>").value();
  m.recipients.push_back({smtp::parse_path("<victim@elsewhere.example>").value(), {}});
  m.content = "Subject: buy\r\n\r\nnow\r\n";
  session.enqueue(m);
  session.finish();
  w.network.connect("stranger.example", w.network.address_of("mx1.example.net"), 25,
                    std::make_unique<SmtpClientEndpoint>(session, ClientTimeouts{}, nullptr));
  w.run();
  ASSERT_TRUE(session.results()[0].rcpt_replies[0]);
  EXPECT_EQ(session.results()[0].rcpt_replies[0]->code, 554);
  EXPECT_EQ(session.results()[0].rcpt_replies[0]->enhanced, "5.7.1");
}

// RFC 4954 6 / RFC 6409: the MSA refuses mail before AUTH.
TEST(MailChainTest, SubmissionWithoutAuthIsRefused) {
  MailWorld w;
  Mua anonymous(w.context("laptop.example.org"),
                MuaSettings{.msa_host = "submit.example.org", .msa_address = w.network.address_of("submit.example.org")});
  std::optional<smtp::TransactionResult> result;
  anonymous.submit({"alice@example.org", {"bob@example.net"}, "x", "y"},
                   [&](const smtp::TransactionResult& r) { result = r; });
  w.run();
  ASSERT_TRUE(result);
  ASSERT_TRUE(result->mail_reply);
  EXPECT_EQ(result->mail_reply->code, 530);
  EXPECT_TRUE(w.net_mda->mailbox("bob").empty());
}

// RFC 7505: a null MX bounces at once, without any connection.
TEST(MailChainTest, NullMxBouncesImmediately) {
  MailWorld w;
  w.dns.set("example.net", {.mx = {{0, "."}}});
  w.send({"bob@example.net"});
  w.run();
  const auto bounces = events_of(w.trace, sim::EventKind::kQueueBounce, "mx.example.org");
  ASSERT_EQ(bounces.size(), 1u);
  EXPECT_NE(bounces[0]->text.find("556 5.1.10"), std::string::npos);
  for (const auto* e : events_of(w.trace, sim::EventKind::kQueueAttempt, "mx.example.org")) {
    EXPECT_FALSE(absl::EndsWith(*e->detail("next_hop"), "example.net")) << e->text;  // no connection tried
  }
  EXPECT_EQ(w.org_mda->mailbox("alice").size(), 1u);
}

// NXDOMAIN is permanent (bounce); SERVFAIL is temporary (defer, then deliver).
TEST(MailChainTest, NxdomainBouncesServfailDefers) {
  MailWorld w;
  w.send({"bob@no-such-domain.example"});
  w.dns.set("example.net", {.failure = sim::DnsFailure::kServFail});
  w.send({"bob@example.net"});
  w.scheduler.schedule(absl::Seconds(100), [&] { w.dns.set("example.net", {.mx = {{10, "mx1.example.net"}}}); });
  w.run();
  EXPECT_NE(events_of(w.trace, sim::EventKind::kQueueBounce, "mx.example.org").at(0)->text.find("NXDOMAIN"), std::string::npos);
  const auto defers = events_of(w.trace, sim::EventKind::kQueueDefer, "mx.example.org");
  ASSERT_EQ(defers.size(), 1u);
  EXPECT_NE(defers[0]->text.find("451 4.4.3"), std::string::npos);
  EXPECT_EQ(w.net_mda->mailbox("bob").size(), 1u);
}

// Postfix maximal_queue_lifetime: after 5 days of 4xx the message is returned (4.4.7).
TEST(MailChainTest, ExpiresAfterQueueLifetime) {
  MailWorld w({.backup_mx = false});
  w.network.set_host_up("mx1.example.net", false);
  w.send({"bob@example.net"});
  w.run();
  const auto expired = events_of(w.trace, sim::EventKind::kQueueExpire, "mx.example.org");
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_GE(expired[0]->time_us, absl::ToInt64Microseconds(absl::Hours(24 * 5)));
  ASSERT_EQ(w.org_mda->mailbox("alice").size(), 1u);
  EXPECT_NE(w.org_mda->mailbox("alice")[0].content.find("Status: 4.4.7"), std::string::npos);
  // Backoff doubled from 300 s to the 4000 s cap: about 5 days / 4000 s attempts.
  EXPECT_GT(w.org_mx->delivery_attempts(), 100u);
  EXPECT_LT(w.org_mx->delivery_attempts(), 120u);
}

// Two MTAs that point at each other: the hop limit stops the loop (554 5.4.6).
TEST(MailChainTest, MailLoopStoppedByHopLimit) {
  MailWorld w;
  // mx1 believes mx.example.org handles example.net, and mx.example.org believes the MX.
  MtaSettings looping = w.mx1->settings();
  looping.local_domains.clear();
  looping.smarthost = "mx.example.org";
  looping.relay_clients = {w.network.address_of("mx.example.org")};
  w.network.stop_listening("mx1.example.net", 25);
  w.mx1 = std::make_unique<Mta>(w.context("mx1.example.net"), looping);
  ASSERT_TRUE(w.mx1->start().ok());
  w.dns.set("example.net", {.mx = {{10, "mx1.example.net"}}});
  // mx.example.org must accept relaying from mx1 for the loop to close.
  MtaSettings org = w.org_mx->settings();
  org.relay_clients.push_back(w.network.address_of("mx1.example.net"));
  w.network.stop_listening("mx.example.org", 25);
  w.org_mx = std::make_unique<Mta>(w.context("mx.example.org"), org);
  ASSERT_TRUE(w.org_mx->start().ok());
  w.send({"bob@example.net"});
  w.run();
  const auto bounces = events_of(w.trace, sim::EventKind::kQueueBounce);
  ASSERT_FALSE(bounces.empty());
  EXPECT_NE(bounces[0]->text.find("554 5.4.6"), std::string::npos);
  EXPECT_TRUE(w.net_mda->mailbox("bob").empty());
}

}  // namespace
}  // namespace smtplab::agents
