// How a server endpoint bounds what a slow or silent client can hold, in
// virtual time: per-request deadlines and the minimum data rate (Postfix's
// smtpd_per_request_deadline and smtpd_min_data_rate), the shorter timeouts
// of a full server (Postfix's ${stress?10}{300}), and a full server letting a
// new client in by closing an idle session of the client holding the most.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agents/connection_gate.hpp"
#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/scheduler.hpp"

namespace smtplab::agents {
namespace {

using absl::Milliseconds;
using absl::Seconds;

// What one scripted client heard, and when its connection ended.
struct ClientLog {
  std::string heard;
  std::optional<absl::Duration> closed_at;
  sim::Connection* connection = nullptr;
};

// Sends each (time, bytes) of its script, if still connected; never times out.
class ScriptedClient : public sim::ConnectionHandler {
 public:
  ScriptedClient(sim::Scheduler& clock, ClientLog& log, std::vector<std::pair<absl::Duration, std::string>> script)
      : clock_(clock), log_(log), script_(std::move(script)) {}
  void on_open(sim::Connection& c) override {
    c.set_timeout(absl::Hours(10));
    log_.connection = &c;
    for (auto& [at, bytes] : script_) {
      clock_.schedule_at(at, [log = &log_, bytes = bytes] {
        if (log->connection != nullptr) log->connection->send(bytes);
      });
    }
  }
  void on_bytes(std::string_view b) override { log_.heard.append(b); }
  void on_timeout() override {}
  void on_closed(std::string_view) override {
    log_.connection = nullptr;
    log_.closed_at = clock_.now();
  }

 private:
  sim::Scheduler& clock_;
  ClientLog& log_;
  std::vector<std::pair<absl::Duration, std::string>> script_;
};

class ServerDeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(net_.add_host("server", "192.0.2.1").ok());
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(net_.add_host("client" + std::to_string(i), "198.51.100." + std::to_string(i + 1)).ok());
    }
    net_.set_default_link({.latency = Milliseconds(1)});
  }
  // Serves port 25 with `settings`, through `gate` when one is given.
  void serve(const ServerEndpointSettings& settings, ConnectionGate* gate = nullptr) {
    settings_ = settings;
    ASSERT_TRUE(net_.listen("server", 25, [this, gate](const sim::ConnectionInfo& info) -> std::unique_ptr<sim::ConnectionHandler> {
                      if (gate != nullptr) return admit_through(*gate, policy_, settings_, info);
                      return std::make_unique<SmtpServerEndpoint>(policy_, settings_, info);
                    }).ok());
  }
  void connect(int client, ClientLog& log, std::vector<std::pair<absl::Duration, std::string>> script = {}) {
    net_.connect("client" + std::to_string(client), "192.0.2.1", 25,
                 std::make_unique<ScriptedClient>(clock_, log, std::move(script)));
  }
  // One byte of `text` every `every`, from `start` on.
  static std::vector<std::pair<absl::Duration, std::string>> trickle(std::string_view text, absl::Duration start,
                                                                     absl::Duration every) {
    std::vector<std::pair<absl::Duration, std::string>> script;
    for (std::size_t i = 0; i < text.size(); ++i) script.emplace_back(start + every * static_cast<int64_t>(i), std::string(1, text[i]));
    return script;
  }

  // The gate a test makes, declared before the network so that it outlives
  // the endpoints holding its tickets.
  ConnectionGate& make_gate(ConnectionLimits limits) {
    gate_ = std::make_unique<ConnectionGate>(limits, "sink.example", clock_);
    return *gate_;
  }

  // An EHLO sent a byte every 5 s to a server with a 30 s timeout.
  const ClientLog& trickle_for_two_minutes(PerRequestDeadline deadline) {
    ServerEndpointSettings settings;
    settings.idle_timeout = Seconds(30);
    settings.per_request_deadline = deadline;
    serve(settings);
    ClientLog& log = logs_.emplace_back();  // the client writes into it while it lives
    connect(0, log, trickle("EHLO a-very-long-name.example.org\r\n", Seconds(1), Seconds(5)));
    clock_.run_until(Seconds(120));
    return log;
  }

  sim::Scheduler clock_;
  std::deque<ClientLog> logs_;
  std::unique_ptr<ConnectionGate> gate_;
  sim::SimNetwork net_{clock_};
  smtp::testing::RecordingPolicy policy_;
  ServerEndpointSettings settings_;
};

// Postfix smtpd_per_request_deadline: with it, a command must arrive whole
// within the timeout, so a byte every 5 s no longer holds the session; the
// 421 4.4.2 of RFC 5321 3.8 comes one timeout after the greeting. Without
// it (the idle timeout of RFC 5321 4.5.3.2.7) every byte restarts the wait.
TEST_F(ServerDeadlineTest, PerRequestDeadlineEndsATrickle) {
  const ClientLog& log = trickle_for_two_minutes(PerRequestDeadline::kAlways);
  ASSERT_TRUE(log.closed_at.has_value()) << log.heard;
  EXPECT_GE(*log.closed_at, Seconds(30));
  EXPECT_LT(*log.closed_at, Seconds(31));
  EXPECT_NE(log.heard.find("421 4.4.2 "), std::string::npos) << log.heard;
  EXPECT_EQ(log.heard.find("250"), std::string::npos) << log.heard;
}

TEST_F(ServerDeadlineTest, IdleTimeoutIsRestartedByATrickle) {
  const ClientLog& log = trickle_for_two_minutes(PerRequestDeadline::kNever);
  EXPECT_FALSE(log.closed_at.has_value()) << log.heard;
}

// Postfix smtpd_min_data_rate (500 octets/s): under a per-request deadline,
// message text earns time as it comes, never more than one timeout ahead. At
// 2,000 octets/s a 60-second message finishes under a 10-second deadline and
// is accepted; at 100 octets/s it is cut off with 421 and nothing is stored.
TEST_F(ServerDeadlineTest, MinimumDataRateLetsFairTextFinishAndCutsATrickle) {
  for (const int octets_per_second : {2000, 100}) {
    SCOPED_TRACE(octets_per_second);
    sim::Scheduler clock;
    sim::SimNetwork net(clock);
    ASSERT_TRUE(net.add_host("server", "192.0.2.1").ok());
    ASSERT_TRUE(net.add_host("client", "198.51.100.1").ok());
    net.set_default_link({.latency = Milliseconds(1)});
    smtp::testing::RecordingPolicy policy;
    ServerEndpointSettings settings;
    settings.idle_timeout = Seconds(10);
    settings.per_request_deadline = PerRequestDeadline::kAlways;
    settings.min_data_rate = 500;
    ASSERT_TRUE(net.listen("server", 25, [&](const sim::ConnectionInfo& info) {
                     return std::make_unique<SmtpServerEndpoint>(policy, settings, info);
                   }).ok());
    std::vector<std::pair<absl::Duration, std::string>> script = {
        {Milliseconds(100), "EHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n"}};
    std::string each_second;  // lines of 100 octets
    for (int i = 0; i < octets_per_second / 100; ++i) each_second += std::string(98, 'x') + "\r\n";
    for (int s = 1; s <= 60; ++s) script.emplace_back(Seconds(s), each_second);
    script.emplace_back(Seconds(61), ".\r\n");
    ClientLog log;
    net.connect("client", "192.0.2.1", 25, std::make_unique<ScriptedClient>(clock, log, std::move(script)));
    clock.run_until(Seconds(90));
    if (octets_per_second >= 500) {
      EXPECT_NE(log.heard.find("250 2.0.0 Ok: queued"), std::string::npos) << log.heard;
      EXPECT_EQ(policy.stored.size(), 1u);
    } else {
      EXPECT_NE(log.heard.find("421 4.4.2 "), std::string::npos) << log.heard;
      EXPECT_TRUE(policy.stored.empty());
      ASSERT_TRUE(log.closed_at.has_value());
      EXPECT_LT(*log.closed_at, Seconds(20));
    }
  }
}

// Postfix's stress: once every slot is taken, every session's timeout drops
// to the stress timeout (10 s instead of 300 s), the ones already connected
// included, so silent clients let go of a full server within seconds.
TEST_F(ServerDeadlineTest, FullServerShortensEverySessionsTimeout) {
  ConnectionGate& gate =
      make_gate({.max_connections = 2, .max_per_client = 0, .evict_idle_after = absl::ZeroDuration()});
  ServerEndpointSettings settings;
  settings.idle_timeout = absl::Minutes(5);
  settings.stress_idle_timeout = Seconds(10);
  serve(settings, &gate);
  ClientLog first, second;
  connect(0, first);
  clock_.run_until(Seconds(20));
  EXPECT_FALSE(first.closed_at.has_value());  // not full yet: five minutes
  connect(1, second);
  clock_.run_until(Seconds(60));
  ASSERT_TRUE(first.closed_at.has_value());
  ASSERT_TRUE(second.closed_at.has_value());
  EXPECT_LT(*second.closed_at, Seconds(31));
  EXPECT_NE(first.heard.find("421 4.4.2 "), std::string::npos) << first.heard;
  EXPECT_EQ(gate.active(), 0u);
  EXPECT_FALSE(gate.under_stress());
}

// A new client at a full server gets its greeting at once: an idle session of
// the client holding every slot is closed with 421 4.7.0, and the newcomer
// delivers its message.
TEST_F(ServerDeadlineTest, NewClientAtAFullServerIsServedAtOnce) {
  ConnectionGate& gate = make_gate({.max_connections = 2, .max_per_client = 0, .evict_idle_after = Seconds(1)});
  serve(ServerEndpointSettings{}, &gate);
  ClientLog idle0, idle1, newcomer;
  connect(0, idle0);
  connect(0, idle1);  // one client holds both slots
  clock_.run_until(Seconds(5));
  connect(2, newcomer,
          {{Seconds(5) + Milliseconds(100),
            "EHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n"},
           {Seconds(5) + Milliseconds(200), "Subject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"}});
  clock_.run_until(Seconds(5) + Milliseconds(50));
  EXPECT_EQ(newcomer.heard.rfind("220 ", 0), 0u) << newcomer.heard;
  clock_.run_until(Seconds(6));
  EXPECT_NE(newcomer.heard.find("250 2.0.0 Ok: queued"), std::string::npos) << newcomer.heard;
  EXPECT_EQ(policy_.stored.size(), 1u);
  // Exactly one of the idle two gave its slot up.
  const bool closed0 = idle0.heard.find("421 4.7.0 ") != std::string::npos;
  const bool closed1 = idle1.heard.find("421 4.7.0 ") != std::string::npos;
  EXPECT_NE(closed0, closed1) << idle0.heard << "\n" << idle1.heard;
}

}  // namespace
}  // namespace smtplab::agents
