// The same agents on real sockets: the chain of MailWorld runs on loopback
// TCP (each host on its own 127.0.0.x) and says exactly what it says in
// virtual time, apart from timing.
#include <gtest/gtest.h>

#include <map>

#include "agents/testing/mail_world.hpp"

namespace smtplab::agents {
namespace {

// What must match between the two worlds: the SMTP dialogue, DNS, queue and
// mailbox events. Connection events are the link's own and differ by design.
// Timing decides how independent activities interleave (a DNS answer after
// 2 ms of virtual latency, a QUIT over loopback in 50 us), so the events are
// compared as one sequence per (host, peer, kind family): each conversation
// and each queue's history in its own order.
std::map<std::string, std::vector<std::string>> story(const std::vector<sim::TraceEvent>& events) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& e : events) {
    const std::string kind = sim::name_of(e.kind);
    if (kind.rfind("conn.", 0) == 0) continue;
    const std::string family = kind.substr(0, kind.find('.'));
    out[e.host + " <-> " + e.peer + " " + family].push_back(e.agent + " | " + kind + " | " + e.text);
  }
  return out;
}

TEST(LoopbackChainTest, SameStoryInVirtualTimeAndOnRealSockets) {
  testing::MailWorld in_process;
  in_process.send({"bob@example.net", "nobody@example.net"});
  in_process.run();

  testing::LoopbackMailWorld loopback;
  loopback.send({"bob@example.net", "nobody@example.net"});
  // Done when bob has his copy and alice has the bounce; bounded in time.
  const bool finished = loopback.run_until(
      [&] { return loopback.net_mda->mailbox("bob").size() == 1 && loopback.org_mda->mailbox("alice").size() == 1; },
      absl::Seconds(20));
  ASSERT_TRUE(finished) << "the loopback chain did not deliver within 20 s";

  const auto a = story(in_process.trace.events());
  const auto b = story(loopback.trace.events());
  ASSERT_GT(a.size(), 10u);
  std::size_t compared = 0;
  for (const auto& [stream, events] : a) compared += events.size();
  EXPECT_GT(compared, 150u);  // every SMTP line of six conversations, DNS, queues
  for (const auto& [stream, events] : a) {
    auto it = b.find(stream);
    ASSERT_NE(it, b.end()) << "missing on loopback: " << stream;
    EXPECT_EQ(events, it->second) << stream;
  }
  EXPECT_EQ(a.size(), b.size());
  // And the mailboxes hold the same messages, apart from the dates in them.
  EXPECT_EQ(in_process.net_mda->mailbox("bob")[0].content.size(), loopback.net_mda->mailbox("bob")[0].content.size());
}

}  // namespace
}  // namespace smtplab::agents
