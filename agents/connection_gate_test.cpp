#include "agents/connection_gate.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "sim/scheduler.hpp"

namespace smtplab::agents {
namespace {

bool admitted(const ConnectionGate::Admission& a) { return std::holds_alternative<ConnectionGate::Ticket>(a); }

// Postfix's default_process_limit: over the server's limit the greeting is a
// 421 (RFC 5321 3.8), and a slot comes free when a connection ends.
TEST(ConnectionGateTest, ServerLimitRefusesWith421AndFreesSlots) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 2, .max_per_client = 0}, "sink.example", clock);
  std::vector<ConnectionGate::Admission> held;
  held.push_back(gate.admit("192.0.2.1"));
  held.push_back(gate.admit("192.0.2.2"));
  ASSERT_TRUE(admitted(held[0]) && admitted(held[1]));
  const auto third = gate.admit("192.0.2.3");
  ASSERT_FALSE(admitted(third));
  EXPECT_EQ(std::get<smtp::Reply>(third).code, 421);
  EXPECT_EQ(std::get<smtp::Reply>(third).enhanced, "4.7.0");
  EXPECT_EQ(gate.active(), 2u);
  held.pop_back();  // a connection ends
  EXPECT_EQ(gate.active(), 1u);
  EXPECT_TRUE(admitted(gate.admit("192.0.2.3")));
}

// Postfix's smtpd_client_connection_count_limit: one address cannot take
// every slot; others still get in.
TEST(ConnectionGateTest, OneClientCannotTakeEverySlot) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 100, .max_per_client = 50}, "sink.example", clock);
  std::vector<ConnectionGate::Admission> held;
  for (int i = 0; i < 50; ++i) held.push_back(gate.admit("127.0.0.2"));
  for (const auto& a : held) ASSERT_TRUE(admitted(a));
  const auto more = gate.admit("127.0.0.2");
  ASSERT_FALSE(admitted(more));
  EXPECT_EQ(std::get<smtp::Reply>(more).text(), "sink.example Error: too many connections from 127.0.0.2");
  EXPECT_TRUE(admitted(gate.admit("127.0.0.3")));
  EXPECT_EQ(gate.active_from("127.0.0.2"), 50u);
  held.clear();
  EXPECT_EQ(gate.active_from("127.0.0.2"), 0u);
  EXPECT_EQ(gate.active(), 0u);
}

// A moved ticket releases its slot once, not twice.
TEST(ConnectionGateTest, MovedTicketReleasesOnce) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 1, .max_per_client = 1}, "sink.example", clock);
  {
    auto a = gate.admit("192.0.2.1");
    ASSERT_TRUE(admitted(a));
    ConnectionGate::Ticket moved = std::get<ConnectionGate::Ticket>(std::move(a));
    EXPECT_EQ(gate.active(), 1u);
  }
  EXPECT_EQ(gate.active(), 0u);
  EXPECT_TRUE(admitted(gate.admit("192.0.2.1")));
}

// What one session's listener heard, in order.
struct Heard {
  std::vector<ConnectionGate::Notice> notices;
  ConnectionGate::Listener listener() {
    return [this](const ConnectionGate::Notice& n) { notices.push_back(n); };
  }
  int stress_on() const { return count([](const ConnectionGate::Stress& s) { return s.on; }); }
  int stress_off() const { return count([](const ConnectionGate::Stress& s) { return !s.on; }); }
  int closes() const {
    int n = 0;
    for (const auto& notice : notices) n += std::holds_alternative<smtp::Reply>(notice);
    return n;
  }

 private:
  template <typename F>
  int count(F f) const {
    int n = 0;
    for (const auto& notice : notices) {
      if (const auto* s = std::get_if<ConnectionGate::Stress>(&notice)) n += f(*s);
    }
    return n;
  }
};

// Postfix's stress: a full server tells every session (so each shortens its
// timeouts, ${stress?10}{300}), and calm returns once a quarter of the slots
// are free again, not at the first one.
TEST(ConnectionGateTest, StressBeginsWhenFullAndEndsWithAQuarterFree) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 8, .max_per_client = 0}, "sink.example", clock);
  std::vector<Heard> heard(8);
  std::vector<ConnectionGate::Ticket> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::get<ConnectionGate::Ticket>(gate.admit("192.0.2." + std::to_string(i))));
    // listen() says whether the server is full at that moment: the eighth
    // session is the one that filled it.
    EXPECT_EQ(held.back().listen(heard[i].listener()), i == 7) << i;
  }
  EXPECT_TRUE(gate.under_stress());
  for (int i = 0; i < 7; ++i) EXPECT_EQ(heard[i].stress_on(), 1) << i;
  held.pop_back();  // 7 of 8: still under stress
  EXPECT_TRUE(gate.under_stress());
  EXPECT_EQ(heard[0].stress_off(), 0);
  held.pop_back();  // 6 of 8: a quarter free
  EXPECT_FALSE(gate.under_stress());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(heard[i].stress_off(), 1) << i;
}

// A new client at a full server gets in: an idle session (idle at least
// evict_idle_after) of the client holding the most slots is told to close
// with 421 4.7.0 (RFC 5321 3.8), the one idle longest, and its slot goes to
// the newcomer at once.
TEST(ConnectionGateTest, FullServerClosesAnIdleSessionOfTheLargestHolderForANewClient) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 4, .max_per_client = 0, .evict_idle_after = absl::Seconds(1)},
                      "sink.example", clock);
  std::vector<Heard> heard(4);
  std::vector<ConnectionGate::Ticket> held;
  // Three sessions of 192.0.2.1, one of 192.0.2.2.
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::get<ConnectionGate::Ticket>(gate.admit(i < 3 ? "192.0.2.1" : "192.0.2.2")));
    held.back().listen(heard[i].listener());
  }
  // Within a second everyone is still busy: the newcomer is refused.
  clock.run_until(absl::Milliseconds(500));
  EXPECT_FALSE(admitted(gate.admit("198.51.100.1")));
  // Sessions 0 and 2 replied since; session 1 has been silent longest of
  // 192.0.2.1's. Session 3 is idle longer still, but its client holds one.
  clock.run_until(absl::Seconds(5));
  held[0].note_progress();
  held[2].note_progress();
  clock.run_until(absl::Seconds(7));
  auto newcomer = gate.admit("198.51.100.1");
  ASSERT_TRUE(admitted(newcomer));
  ASSERT_EQ(heard[1].closes(), 1);
  const auto& reply = std::get<smtp::Reply>(heard[1].notices.back());
  EXPECT_EQ(reply.code, 421);
  EXPECT_EQ(reply.enhanced, "4.7.0");
  EXPECT_EQ(heard[0].closes() + heard[2].closes() + heard[3].closes(), 0);
  // The one told to close is not told twice; the next newcomer takes
  // another of 192.0.2.1's (which still holds the most).
  ASSERT_TRUE(admitted(gate.admit("198.51.100.2")));
  EXPECT_EQ(heard[1].closes(), 1);
  EXPECT_EQ(heard[0].closes() + heard[2].closes(), 1);
  EXPECT_EQ(heard[3].closes(), 0);
}

// Closing only ever evens the shares out: a client cannot take a slot from
// one that holds fewer than two more than itself, so an attacker that
// reconnects at once closes nobody's session but its own kind's, and a
// client with one session is never pushed out for another with none.
TEST(ConnectionGateTest, ClosingForANewClientOnlyEvensOutTheShares) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 3, .max_per_client = 0, .evict_idle_after = absl::Seconds(1)},
                      "sink.example", clock);
  std::vector<Heard> heard(3);
  std::vector<ConnectionGate::Ticket> held;
  for (const char* client : {"192.0.2.1", "192.0.2.1", "192.0.2.2"}) {
    held.push_back(std::get<ConnectionGate::Ticket>(gate.admit(client)));
    held.back().listen(heard[held.size() - 1].listener());
  }
  clock.run_until(absl::Seconds(60));
  // 192.0.2.1 (two) and 192.0.2.2 (one) may not close each other's.
  EXPECT_FALSE(admitted(gate.admit("192.0.2.1")));
  EXPECT_FALSE(admitted(gate.admit("192.0.2.2")));
  for (const Heard& h : heard) EXPECT_EQ(h.closes(), 0);
  // A newcomer with none takes one of the two, not 192.0.2.2's only one.
  auto newcomer = gate.admit("198.51.100.1");
  ASSERT_TRUE(admitted(newcomer));
  EXPECT_EQ(heard[0].closes() + heard[1].closes(), 1);
  EXPECT_EQ(heard[2].closes(), 0);
  // Now each holds one: nobody can be closed for a fourth client.
  EXPECT_FALSE(admitted(gate.admit("198.51.100.2")));
}

// The per-client limit comes first: a client at its limit cannot push
// others out, and with evict_idle_after zero nobody is pushed out.
TEST(ConnectionGateTest, NoClosingForAClientAtItsLimitOrWhenTurnedOff) {
  sim::Scheduler clock;
  ConnectionGate gate({.max_connections = 2, .max_per_client = 1, .evict_idle_after = absl::Seconds(1)},
                      "sink.example", clock);
  Heard a, b;
  auto ta = std::get<ConnectionGate::Ticket>(gate.admit("192.0.2.1"));
  ta.listen(a.listener());
  auto tb = std::get<ConnectionGate::Ticket>(gate.admit("192.0.2.2"));
  tb.listen(b.listener());
  clock.run_until(absl::Seconds(60));
  EXPECT_FALSE(admitted(gate.admit("192.0.2.1")));
  EXPECT_EQ(a.closes() + b.closes(), 0);

  ConnectionGate off({.max_connections = 1, .max_per_client = 0, .evict_idle_after = absl::ZeroDuration()},
                     "sink.example", clock);
  Heard c;
  auto tc = std::get<ConnectionGate::Ticket>(off.admit("192.0.2.1"));
  tc.listen(c.listener());
  clock.run_until(absl::Seconds(120));
  EXPECT_FALSE(admitted(off.admit("192.0.2.2")));
  EXPECT_EQ(c.closes(), 0);
}

}  // namespace
}  // namespace smtplab::agents
