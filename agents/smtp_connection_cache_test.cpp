// The SMTP connection cache in the whole chain, in virtual time: messages to
// the same next hop share one session (RFC 5321 3.3: a session may carry any
// number of mail transactions), idle sessions QUIT after the idle limit, and
// a cached connection that dies costs no mail.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "agents/testing/mail_world.hpp"

namespace smtplab::agents {
namespace {

using testing::MailWorld;

MailWorld cached_world(ConnectionCacheSettings cache = {.enabled = true}) {
  return MailWorld({.connection_cache = cache});
}

// Sessions each server saw: the connections on which a client said EHLO
// (LHLO at the mailbox server, which speaks LMTP).
std::map<std::string, std::set<std::uint64_t>> sessions_by_server(const sim::Trace& trace) {
  std::map<std::string, std::set<std::uint64_t>> out;
  for (const auto& e : trace.events()) {
    if (e.kind == sim::EventKind::kSmtpCommand && (absl::StartsWith(e.text, "EHLO ") || absl::StartsWith(e.text, "LHLO "))) {
      out[e.host].insert(e.connection);
    }
  }
  return out;
}

std::size_t count(const sim::Trace& trace, sim::EventKind kind, std::string_view host) {
  std::size_t n = 0;
  for (const auto& e : trace.events()) n += e.kind == kind && e.host == host;
  return n;
}

TEST(ConnectionCacheTest, MessagesToOneNextHopShareOneSession) {
  MailWorld w = cached_world();
  for (int i = 0; i < 3; ++i) {
    w.scheduler.schedule(absl::Milliseconds(300 * i), [&w] { w.send({"bob@example.net"}); });
  }
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 3u);
  // One session per hop carried all three transactions.
  const auto sessions = sessions_by_server(w.trace);
  for (const char* server : {"submit.example.org", "mx.example.org", "mx1.example.net", "mail.example.net"}) {
    ASSERT_TRUE(sessions.count(server)) << server;
    EXPECT_EQ(sessions.at(server).size(), 1u) << server;
  }
  EXPECT_EQ(w.network.connections_opened(), 4u);
  // The second and third attempts said so.
  std::size_t reused = 0;
  for (const auto& e : w.trace.events()) {
    reused += e.kind == sim::EventKind::kQueueAttempt && absl::StartsWith(e.text, "reusing the open connection to ");
  }
  EXPECT_EQ(reused, 3u * 2);  // three MTAs, two later messages each
  EXPECT_EQ(w.network.open_connections(), 0u);  // all closed in the end
}

TEST(ConnectionCacheTest, WithoutTheCacheEachMessageHasItsOwnSessions) {
  MailWorld w;
  for (int i = 0; i < 3; ++i) {
    w.scheduler.schedule(absl::Milliseconds(300 * i), [&w] { w.send({"bob@example.net"}); });
  }
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 3u);
  EXPECT_EQ(w.network.connections_opened(), 12u);
  EXPECT_EQ(sessions_by_server(w.trace).at("mx1.example.net").size(), 3u);
}

// Postfix smtp_connection_cache_time_limit: an idle session says QUIT when
// the limit has passed without a message for it.
TEST(ConnectionCacheTest, IdleSessionQuitsAfterTheIdleLimit) {
  MailWorld w = cached_world({.enabled = true, .idle_limit = absl::Seconds(2)});
  w.send({"bob@example.net"});
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  // At mx1.example.net: the 250 after the message, then QUIT 2 s later.
  std::int64_t accepted_at = -1, quit_at = -1;
  for (const auto& e : w.trace.events()) {
    if (e.host != "mx1.example.net") continue;
    if (e.kind == sim::EventKind::kSmtpReply && absl::StrContains(e.text, "queued as")) accepted_at = e.time_us;
    if (e.kind == sim::EventKind::kSmtpCommand && e.text == "QUIT") quit_at = e.time_us;
  }
  ASSERT_GE(accepted_at, 0);
  ASSERT_GT(quit_at, accepted_at);
  // Two seconds of idling plus one 10 ms trip for the QUIT.
  EXPECT_GE(quit_at - accepted_at, 2'000'000);
  EXPECT_LE(quit_at - accepted_at, 2'050'000);
}

// Postfix smtp_connection_reuse_count_limit.
TEST(ConnectionCacheTest, SessionTakesNoMoreThanTheReuseCountLimit) {
  MailWorld w = cached_world({.enabled = true, .reuse_count_limit = 2});
  for (int i = 0; i < 5; ++i) {
    w.scheduler.schedule(absl::Milliseconds(300 * i), [&w] { w.send({"bob@example.net"}); });
  }
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 5u);
  EXPECT_EQ(sessions_by_server(w.trace).at("mx1.example.net").size(), 3u);  // 2 + 2 + 1
}

// Postfix smtp_connection_reuse_time_limit. A session that reaches the limit
// while idle leaves the cache then, so an attempt that says it reuses a
// connection really does: the "reusing" events match the transactions that
// went over an existing session.
TEST(ConnectionCacheTest, ReuseTimeLimitAndTheTraceAgree) {
  MailWorld w = cached_world(
      {.enabled = true, .idle_limit = absl::Seconds(10), .reuse_time_limit = absl::Seconds(5), .reuse_count_limit = 0});
  for (int i = 0; i < 10; ++i) {
    w.scheduler.schedule(absl::Seconds(i), [&w] { w.send({"bob@example.net"}); });
  }
  w.run();
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 10u);
  for (const auto& [client, server] : {std::pair{"mx.example.org", "mx1.example.net"},
                                       std::pair{"submit.example.org", "mx.example.org"}}) {
    std::size_t said_reusing = 0, mail_commands = 0;
    for (const auto& e : w.trace.events()) {
      said_reusing += e.host == client && e.kind == sim::EventKind::kQueueAttempt &&
                      absl::StartsWith(e.text, "reusing the open connection to ");
      mail_commands += e.host == server && e.kind == sim::EventKind::kSmtpCommand && absl::StartsWith(e.text, "MAIL FROM:");
    }
    const std::size_t sessions = sessions_by_server(w.trace).at(server).size();
    EXPECT_EQ(mail_commands, 10u) << server;
    EXPECT_EQ(said_reusing, mail_commands - sessions) << client;
    EXPECT_GE(sessions, 2u) << server;  // the 5 s limit split the ten messages
  }
}

// A refused recipient ends its transaction (RCPT 550, then RSET), not the
// session: the next message goes over the same connection (RFC 5321 4.1.1.5).
TEST(ConnectionCacheTest, RefusedTransactionLeavesTheSessionUsable) {
  MailWorld w = cached_world();
  w.send({"nobody@example.net"});
  w.scheduler.schedule(absl::Milliseconds(300), [&w] { w.send({"bob@example.net"}); });
  w.run();
  EXPECT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  EXPECT_EQ(count(w.trace, sim::EventKind::kQueueBounce, "mx1.example.net"), 1u);
  // The MDA saw one session with both transactions: one RSET between them.
  EXPECT_EQ(sessions_by_server(w.trace).at("mail.example.net").size(), 1u);
  std::size_t mail_commands = 0;
  for (const auto& e : w.trace.events()) {
    mail_commands += e.host == "mail.example.net" && e.kind == sim::EventKind::kSmtpCommand && absl::StartsWith(e.text, "MAIL FROM:");
  }
  EXPECT_EQ(mail_commands, 2u);
  EXPECT_EQ(count(w.trace, sim::EventKind::kQueueDefer, "mx1.example.net"), 0u);
}

// A cached connection reset while idle is dropped from the cache; the next
// message opens a new one and is delivered without a deferral.
TEST(ConnectionCacheTest, DeadCachedConnectionCostsNoMail) {
  MailWorld w = cached_world();
  w.send({"bob@example.net"});
  w.run_for(absl::Seconds(1));  // delivered; the sessions sit idle in the caches
  ASSERT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  w.network.set_host_up("mx1.example.net", false);  // resets its connections
  w.network.set_host_up("mx1.example.net", true);
  w.send({"bob@example.net"});
  w.run();
  EXPECT_EQ(w.net_mda->mailbox("bob").size(), 2u);
  EXPECT_EQ(count(w.trace, sim::EventKind::kQueueDefer, "mx.example.org"), 0u);
  EXPECT_EQ(sessions_by_server(w.trace).at("mx1.example.net").size(), 2u);
}

// Same inputs and seed, same trace, with the cache as without.
TEST(ConnectionCacheTest, TraceIsDeterministic) {
  auto run = [] {
    MailWorld w = cached_world();
    for (int i = 0; i < 4; ++i) {
      w.scheduler.schedule(absl::Milliseconds(150 * i), [&w, i] {
        w.send({i % 2 ? "bob@example.net" : "carol@example.net", "alice@example.org"});
      });
    }
    w.run();
    return w.trace.events();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace smtplab::agents
