#include "agents/audit/delivery_audit.hpp"

#include <gtest/gtest.h>

#include "agents/testing/mail_world.hpp"

namespace smtplab::agents {
namespace {

sim::TraceEvent ev(sim::EventKind kind, std::string host, std::string message, std::string qid,
                   std::vector<std::pair<std::string, std::string>> details) {
  sim::TraceEvent e;
  e.kind = kind;
  e.host = std::move(host);
  e.message = std::move(message);
  e.details = std::move(details);
  e.details.insert(e.details.begin(), {"queue_id", qid});
  return e;
}

// The checker itself must catch each kind of loss, or it proves nothing.
TEST(DeliveryAuditTest, CatchesARelayThatNeverArrived) {
  std::vector<sim::TraceEvent> t = {
      ev(sim::EventKind::kQueueEnqueue, "a", "m1", "Q1", {{"to", "bob@x"}}),
      ev(sim::EventKind::kQueueRelay, "a", "m1", "Q1", {{"recipient", "bob@x"}, {"next_hop", "b"}}),
      ev(sim::EventKind::kQueueDone, "a", "m1", "Q1", {}),
  };
  auto r = audit_deliveries(t, true);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("LOST"), std::string::npos);
}

TEST(DeliveryAuditTest, CatchesAnAcceptedMessageThatVanished) {
  std::vector<sim::TraceEvent> t = {ev(sim::EventKind::kQueueEnqueue, "a", "m1", "Q1", {{"to", "bob@x,carol@x"}}),
                                    ev(sim::EventKind::kQueueRelay, "a", "m1", "Q1", {{"recipient", "bob@x"}, {"next_hop", "b"}}),
                                    ev(sim::EventKind::kMailboxDeliver, "b", "m1", "", {{"recipient", "bob@x"}}),
                                    ev(sim::EventKind::kQueueDone, "a", "m1", "Q1", {})};
  auto r = audit_deliveries(t, true);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("<carol@x> accepted but neither"), std::string::npos);
}

TEST(DeliveryAuditTest, CatchesASilentBounceAndUnexplainedDuplicates) {
  std::vector<sim::TraceEvent> t = {ev(sim::EventKind::kQueueEnqueue, "a", "m1", "Q1", {{"to", "bob@x"}}),
                                    ev(sim::EventKind::kQueueBounce, "a", "m1", "Q1", {{"recipient", "bob@x"}}),
                                    ev(sim::EventKind::kMailboxDeliver, "b", "m2", "", {{"recipient", "c@x"}}),
                                    ev(sim::EventKind::kMailboxDeliver, "b", "m2", "", {{"recipient", "c@x"}})};
  auto r = audit_deliveries(t, true);
  EXPECT_EQ(r.problems.size(), 2u);
  t.push_back(ev(sim::EventKind::kMessageDsn, "a", "m1", "Q1", {}));
  t.push_back(ev(sim::EventKind::kQueueRfc1047, "z", "m2", "Q9", {}));
  r = audit_deliveries(t, true);
  EXPECT_TRUE(r.ok()) << r.problems[0];
  EXPECT_EQ(r.duplicates, 1u);
}

// A run cut short may leave messages waiting for a retry; a run that drained
// may not (the retry should have happened), nor may a retry time in the past.
TEST(DeliveryAuditTest, WaitingMessagesAreStillQueuedOnlyIfTheRetryIsAhead) {
  std::vector<sim::TraceEvent> t = {ev(sim::EventKind::kQueueEnqueue, "a", "m1", "Q1", {{"to", "bob@x"}}),
                                    ev(sim::EventKind::kQueueDefer, "a", "m1", "Q1", {{"recipient", "bob@x"}}),
                                    ev(sim::EventKind::kQueueWait, "a", "m1", "Q1", {{"next_attempt_us", "300000000"}})};
  auto r = audit_deliveries(t, /*drained=*/false);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.still_queued, 1u);
  EXPECT_FALSE(audit_deliveries(t, /*drained=*/true).ok());
  t.push_back(ev(sim::EventKind::kNetHeal, "a", "", "", {}));  // any event: time goes on
  t.back().time_us = 400000000;  // the trace goes on past the promised retry
  EXPECT_FALSE(audit_deliveries(t, /*drained=*/false).ok());
}

// The randomized fault test: under resets at random points (mid-DATA
// included), hosts that crash and come back with their queues, partitions
// and DNS failures, nothing accepted is ever lost, on every seed.
//
// With the connection cache on, a reset can also hit a cached session while
// it idles or just as it takes the next message.
class NothingLostTest : public ::testing::TestWithParam<bool> {};

TEST_P(NothingLostTest, UnderRandomFaults) {
  const bool cache = GetParam();
  constexpr int kSeeds = 1000;
  std::size_t total_duplicates = 0, total_accepted = 0, total_reused = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    testing::MailWorld w({.seed = static_cast<std::uint64_t>(seed), 
                         // Idle sessions live long enough for the faults to find them.
                         .connection_cache = {.enabled = cache, .idle_limit = absl::Seconds(900)}});
    auto& rng = w.scheduler.rng();
    w.network.set_random_resets(0.25, 2500);
    const std::vector<std::vector<std::string>> sends = {
        {"bob@example.net"}, {"carol@example.net", "nobody@example.net"}, {"bob@example.net", "carol@example.net"},
        {"alice@example.org", "bob@example.net"}};
    for (std::size_t i = 0; i < sends.size(); ++i) {
      w.scheduler.schedule(absl::Seconds(rng() % 600), [&w, to = sends[i]] { w.send(to); });
    }
    const char* hosts[] = {"mx.example.org", "mx1.example.net", "mx2.example.net", "mail.example.net",
                           "mail.example.org"};
    for (int f = 0; f < 3; ++f) {
      const absl::Duration at = absl::Seconds(rng() % 3600);
      const absl::Duration length = absl::Seconds(1 + rng() % 7200);
      switch (rng() % 3) {
        case 0: {  // a host crashes and comes back later, queue intact
          const std::string h = hosts[rng() % 5];
          w.scheduler.schedule(at, [&w, h] { w.network.set_host_up(h, false); });
          w.scheduler.schedule(at + length, [&w, h] { w.network.set_host_up(h, true); });
          break;
        }
        case 1: {  // a partition that heals
          const std::string a = hosts[rng() % 5], b = hosts[rng() % 5];
          if (a == b) break;
          w.scheduler.schedule(at, [&w, a, b] { w.network.partition(a, b); });
          w.scheduler.schedule(at + length, [&w, a, b] { w.network.heal(a, b); });
          break;
        }
        case 2: {  // the destination's DNS fails for a while
          w.scheduler.schedule(at, [&w] { w.dns.set("example.net", {.failure = sim::DnsFailure::kServFail}); });
          w.scheduler.schedule(at + length, [&w] {
            w.dns.set("example.net", {.mx = {{10, "mx1.example.net"}, {20, "mx2.example.net"}}});
          });
          break;
        }
      }
    }
    const std::size_t ran = w.scheduler.run(5'000'000);
    ASSERT_LT(ran, 5'000'000u) << "seed " << seed << " did not settle";
    const AuditReport report = audit_deliveries(w.trace.events(), /*drained=*/true);
    ASSERT_TRUE(report.ok()) << "seed " << seed << ": " << report.summary() << "\n  " << report.problems[0];
    total_duplicates += report.duplicates;
    total_accepted += report.accepted;
    for (const Mta* m : {w.msa.get(), w.org_mx.get(), w.mx1.get(), w.mx2.get()}) {
      total_reused += m->connections().transactions_reused();
    }
  }
  // With the cache, many messages really went over a cached session.
  if (cache) {
    EXPECT_GT(total_reused, static_cast<std::size_t>(kSeeds));
  }
  // The faults must really bite: some deliveries hit the RFC 1047 window.
  EXPECT_GT(total_accepted, static_cast<std::size_t>(kSeeds) * 8);
  RecordProperty("duplicates", static_cast<int>(total_duplicates));
  RecordProperty("accepted", static_cast<int>(total_accepted));
  std::printf("%d seeds: %zu accepted copies, %zu RFC 1047 duplicates, %zu transactions on cached sessions\n", kSeeds,
              total_accepted, total_duplicates, total_reused);
}

INSTANTIATE_TEST_SUITE_P(DeliveryAuditTest, NothingLostTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ConnectionCache" : "ConnectionPerMessage"; });

}  // namespace
}  // namespace smtplab::agents
