#include "agents/connection_gate.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace smtplab::agents {
namespace {

bool admitted(const ConnectionGate::Admission& a) { return std::holds_alternative<ConnectionGate::Ticket>(a); }

// Postfix's default_process_limit: over the server's limit the greeting is a
// 421 (RFC 5321 3.8), and a slot comes free when a connection ends.
TEST(ConnectionGateTest, ServerLimitRefusesWith421AndFreesSlots) {
  ConnectionGate gate({.max_connections = 2, .max_per_client = 0}, "sink.example");
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
  ConnectionGate gate({.max_connections = 100, .max_per_client = 50}, "sink.example");
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
  ConnectionGate gate({.max_connections = 1, .max_per_client = 1}, "sink.example");
  {
    auto a = gate.admit("192.0.2.1");
    ASSERT_TRUE(admitted(a));
    ConnectionGate::Ticket moved = std::get<ConnectionGate::Ticket>(std::move(a));
    EXPECT_EQ(gate.active(), 1u);
  }
  EXPECT_EQ(gate.active(), 0u);
  EXPECT_TRUE(admitted(gate.admit("192.0.2.1")));
}

}  // namespace
}  // namespace smtplab::agents
