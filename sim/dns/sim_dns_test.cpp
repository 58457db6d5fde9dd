#include "sim/dns/sim_dns.hpp"

#include <gtest/gtest.h>

#include "sim/scheduler.hpp"

namespace smtplab::sim {
namespace {

class SimDnsTest : public ::testing::Test {
 protected:
  SimDnsTest() : trace_(clock_), dns_(clock_, &trace_) {
    dns_.set("example.net", {.mx = {{10, "mx1.example.net"}, {20, "mx2.example.net"}}, .a = {"192.0.2.9"}});
    dns_.set("mx1.example.net", {.a = {"192.0.2.10"}});
    dns_.set("broken.example", {.failure = DnsFailure::kServFail});
    dns_.set("slow.example", {.failure = DnsFailure::kTimeout});
    dns_.set("nomail.example", {.mx = {{0, "."}}});
  }
  DnsAnswer ask(const std::string& name, DnsType type) {
    DnsAnswer out;
    dns_.query("client", name, type, DnsPurpose::kMailDomain, [&](const DnsAnswer& a) { out = a; });
    clock_.run();
    return out;
  }
  Scheduler clock_;
  Trace trace_;
  SimDns dns_;
};

TEST_F(SimDnsTest, AnswersAfterLatencyAndTraces) {
  DnsAnswer a = ask("EXAMPLE.net.", DnsType::kMx);
  EXPECT_EQ(a.status, DnsStatus::kOk);
  ASSERT_EQ(a.mx.size(), 2u);
  EXPECT_EQ(clock_.now(), absl::Milliseconds(2));
  ASSERT_EQ(trace_.events().size(), 2u);
  EXPECT_EQ(trace_.events()[0].text, "MX example.net?");
  EXPECT_EQ(trace_.events()[1].text, "MX example.net? 10 mx1.example.net, 20 mx2.example.net");
}

TEST_F(SimDnsTest, FailureModes) {
  EXPECT_EQ(ask("unknown.example", DnsType::kMx).status, DnsStatus::kNxDomain);
  EXPECT_EQ(ask("mx1.example.net", DnsType::kMx).status, DnsStatus::kNoData);
  EXPECT_EQ(ask("broken.example", DnsType::kA).status, DnsStatus::kServFail);
  const absl::Duration before = clock_.now();
  EXPECT_EQ(ask("slow.example", DnsType::kMx).status, DnsStatus::kTimeout);
  EXPECT_EQ(clock_.now() - before, absl::Seconds(5));
}

// RFC 7505: a single MX "." says the domain accepts no mail.
TEST_F(SimDnsTest, NullMxIsTracedAsSuch) {
  ask("nomail.example", DnsType::kMx);
  EXPECT_EQ(trace_.events().back().explain, "dns.null_mx");
}

// A trace that keeps only message-level events records no DNS events, but
// the answer, its records and its latency are the same (RFC 5321 5.1 routing
// must not depend on how much of the run is traced).
TEST(SimDnsUntracedTest, MessageLevelTraceGetsTheSameAnswerAndLatency) {
  Scheduler clock;
  Trace trace(clock, TraceLevel::kMessages);
  SimDns dns(clock, &trace);
  dns.set("Example.NET", {.mx = {{10, "mx1.example.net"}}});
  dns.set("slow.example", {.failure = DnsFailure::kTimeout});
  DnsAnswer mx;
  dns.query("client", "example.net", DnsType::kMx, DnsPurpose::kMailDomain, [&](const DnsAnswer& a) { mx = a; });
  clock.run();
  EXPECT_EQ(mx.status, DnsStatus::kOk);
  ASSERT_EQ(mx.mx.size(), 1u);
  EXPECT_EQ(mx.mx[0].exchange, "mx1.example.net");
  EXPECT_EQ(clock.now(), absl::Milliseconds(2));
  DnsAnswer slow;
  dns.query("client", "SLOW.example.", DnsType::kA, DnsPurpose::kExchanger, [&](const DnsAnswer& a) { slow = a; });
  clock.run();
  EXPECT_EQ(slow.status, DnsStatus::kTimeout);
  EXPECT_EQ(clock.now(), absl::Milliseconds(2) + absl::Seconds(5));
  EXPECT_EQ(trace.count(), 0u);
}

}  // namespace
}  // namespace smtplab::sim
