#include "sim/inprocess/sim_network.hpp"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace smtplab::sim {
namespace {

// Records everything, replies "pong:<bytes>" and closes when told "bye".
struct Log {
  std::vector<std::string> events;
};

class Recorder : public ConnectionHandler {
 public:
  Recorder(Log* log, std::string name, Scheduler* clock, bool echo)
      : log_(log), name_(std::move(name)), clock_(clock), echo_(echo) {}
  void on_open(Connection& c) override {
    connection_ = &c;
    add("open");
    if (echo_) c.send("hello");
  }
  void on_bytes(std::string_view b) override {
    add("bytes " + std::string(b));
    if (echo_) connection_->send("pong:" + std::string(b));
    if (b == "bye") connection_->close();
  }
  void on_timeout() override { add("timeout"); }
  void on_closed(std::string_view why) override { add("closed " + std::string(why)); }
  Connection* connection_ = nullptr;

 private:
  void add(std::string what) {
    log_->events.push_back(absl::StrCat(name_, "@", absl::ToInt64Milliseconds(clock_->now()), "ms ", what));
  }
  Log* log_;
  std::string name_;
  Scheduler* clock_;
  bool echo_;
};

class SimNetworkTest : public ::testing::Test {
 protected:
  SimNetworkTest() : trace_(scheduler_), net_(scheduler_, &trace_) {
    EXPECT_TRUE(net_.add_host("client", "192.0.2.1").ok());
    EXPECT_TRUE(net_.add_host("server", "192.0.2.2").ok());
    net_.set_default_link({absl::Milliseconds(10), 0});
    EXPECT_TRUE(net_.listen("server", 25, [this](const ConnectionInfo&) {
      return std::make_unique<Recorder>(&log_, "S", &scheduler_, true);
    }).ok());
  }
  Recorder* connect_client() {
    auto client = std::make_unique<Recorder>(&log_, "C", &scheduler_, false);
    Recorder* raw = client.get();
    net_.connect("client", "192.0.2.2", 25, std::move(client));
    return raw;
  }
  Scheduler scheduler_;
  Trace trace_;
  SimNetwork net_;
  Log log_;
};

TEST_F(SimNetworkTest, BytesArriveAfterLatencyInOrder) {
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  client->connection_->send("a");
  client->connection_->send("b");
  client->connection_->send("bye");
  scheduler_.run();
  EXPECT_EQ(log_.events, (std::vector<std::string>{
                             "S@10ms open", "C@20ms open", "C@20ms bytes hello", "S@35ms bytes a",
                             "S@35ms bytes b", "S@35ms bytes bye", "S@35ms closed closed", "C@45ms bytes pong:a",
                             "C@45ms bytes pong:b", "C@45ms bytes pong:bye", "C@45ms closed closed by peer"}));
}

TEST_F(SimNetworkTest, BandwidthDelaysLargeWrites) {
  net_.set_link("client", "server", {absl::Milliseconds(10), 1000});  // 1000 bytes/s
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  client->connection_->send(std::string(500, 'x'));  // 0.5 s on the wire
  scheduler_.run_until(absl::Milliseconds(520));
  EXPECT_EQ(log_.events.back().rfind("C@", 0), 0u);  // the server has not got it yet
  scheduler_.run_until(absl::Milliseconds(536));
  EXPECT_EQ(log_.events.back().rfind("S@535ms bytes xxx", 0), 0u) << log_.events.back();
}

TEST_F(SimNetworkTest, RefusedWhenNothingListens) {
  net_.connect("client", "192.0.2.2", 587, std::make_unique<Recorder>(&log_, "C", &scheduler_, false));
  scheduler_.run();
  EXPECT_EQ(log_.events, (std::vector<std::string>{"C@20ms closed connection to 192.0.2.2:587 refused"}));
}

TEST_F(SimNetworkTest, DownHostTimesOutThenComesBack) {
  net_.set_host_up("server", false);
  net_.connect("client", "192.0.2.2", 25, std::make_unique<Recorder>(&log_, "C", &scheduler_, false),
               absl::Seconds(30));
  scheduler_.run();
  EXPECT_EQ(log_.events, (std::vector<std::string>{"C@30000ms closed connection to 192.0.2.2:25 timed out"}));
  net_.set_host_up("server", true);
  log_.events.clear();
  connect_client();
  scheduler_.run();
  EXPECT_EQ(log_.events.front(), "S@30010ms open");
}

TEST_F(SimNetworkTest, PartitionHoldsBytesUntilHealed) {
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  net_.partition("client", "server");
  client->connection_->send("held");
  scheduler_.run_until(absl::Seconds(10));
  EXPECT_EQ(log_.events.back(), "C@20ms bytes hello");
  net_.heal("client", "server");
  scheduler_.run_until(absl::Seconds(11));
  EXPECT_EQ(log_.events[3], "S@10010ms bytes held");
}

TEST_F(SimNetworkTest, ResetMidStream) {
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  net_.reset_connection_after(1, 4);
  client->connection_->send("abcdefgh");
  scheduler_.run();
  EXPECT_EQ(log_.events[3], "S@35ms bytes abcd");
  EXPECT_EQ(log_.events[4], "C@35ms closed connection reset by peer");
  EXPECT_EQ(log_.events[5], "S@35ms closed connection reset by peer");
  EXPECT_EQ(net_.open_connections(), 0u);
}

TEST_F(SimNetworkTest, IdleTimeout) {
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  client->connection_->set_timeout(absl::Seconds(60));
  scheduler_.run();
  // The server's own default (5 min) is longer: the client times out first.
  EXPECT_EQ(log_.events[2], "C@20ms bytes hello");
  EXPECT_EQ(log_.events[3], "C@60025ms timeout");
}

TEST_F(SimNetworkTest, TraceRecordsConnections) {
  Recorder* client = connect_client();
  scheduler_.run_until(absl::Milliseconds(25));
  client->connection_->close();
  scheduler_.run();
  ASSERT_GE(trace_.events().size(), 2u);
  EXPECT_EQ(trace_.events()[0].kind, EventKind::kConnOpen);
  EXPECT_EQ(trace_.events()[0].time_us, 10000);
  EXPECT_EQ(trace_.events()[1].kind, EventKind::kConnClose);
}

// Same inputs, same run: the log of two identical runs is identical.
TEST(SimNetworkDeterminism, TwoRunsAreIdentical) {
  auto run = [] {
    Scheduler s(7);
    Trace t(s);
    SimNetwork net(s, &t);
    Log log;
    (void)net.add_host("a", "192.0.2.1");
    (void)net.add_host("b", "192.0.2.2");
    (void)net.listen("b", 25, [&](const ConnectionInfo&) { return std::make_unique<Recorder>(&log, "S", &s, true); });
    for (int i = 0; i < 5; ++i) net.connect("a", "192.0.2.2", 25, std::make_unique<Recorder>(&log, "C", &s, false));
    s.run();
    return log.events;
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace smtplab::sim
