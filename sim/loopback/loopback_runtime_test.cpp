#include "sim/loopback/loopback_runtime.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace smtplab::sim {
namespace {

// Answers each chunk with "echo:<chunk>", and closes on "bye".
class EchoHandler : public ConnectionHandler {
 public:
  void on_open(Connection& c) override {
    connection_ = &c;
    c.send("hello\n");
  }
  void on_bytes(std::string_view bytes) override {
    connection_->send(std::string("echo:") + std::string(bytes));
    if (bytes.find("bye") != std::string_view::npos) connection_->close();
  }
  void on_timeout() override {}
  void on_closed(std::string_view) override {}

 private:
  Connection* connection_ = nullptr;
};

class ClientHandler : public ConnectionHandler {
 public:
  ClientHandler(std::string* received, std::string* closed_why, LoopbackRuntime* runtime)
      : received_(received), closed_why_(closed_why), runtime_(runtime) {}
  void on_open(Connection& c) override { connection_ = &c; }
  void on_bytes(std::string_view bytes) override {
    received_->append(bytes);
    if (*received_ == "hello\n") connection_->send("bye");
  }
  void on_timeout() override {}
  void on_closed(std::string_view why) override {
    *closed_why_ = std::string(why);
    runtime_->stop();
  }

 private:
  std::string* received_;
  std::string* closed_why_;
  LoopbackRuntime* runtime_;
  Connection* connection_ = nullptr;
};

TEST(LoopbackRuntimeTest, BytesFlowBothWaysAndCloseIsSeen) {
  LoopbackRuntime runtime;
  std::size_t seen_active = 0;
  auto port = runtime.listen("127.0.0.1", 0, [&](const ConnectionInfo& info) {
    seen_active = info.active_connections;
    EXPECT_EQ(info.peer_address.rfind("127.0.0.1:", 0), 0u);
    return std::make_unique<EchoHandler>();
  });
  ASSERT_TRUE(port.ok()) << port.status();
  std::string received, why;
  runtime.connect("127.0.0.1", *port, std::make_unique<ClientHandler>(&received, &why, &runtime));
  runtime.run();
  EXPECT_EQ(received, "hello\necho:bye");
  EXPECT_EQ(why, "closed by peer");
  EXPECT_EQ(seen_active, 1u);
}

TEST(LoopbackRuntimeTest, ConnectFailureIsReported) {
  LoopbackRuntime runtime;
  std::string received, why;
  runtime.connect("127.0.0.1", 1, std::make_unique<ClientHandler>(&received, &why, &runtime));
  runtime.run(/*until_idle=*/true);
  EXPECT_EQ(why.rfind("cannot connect", 0), 0u) << why;
}

// A server end that notes when its timeout fired, under `clock`, and hands
// out its connection's waker.
class TimedHandler : public ConnectionHandler {
 public:
  TimedHandler(TimeoutClock clock, bool* timed_out) : clock_(clock), timed_out_(timed_out) {}
  void on_open(Connection& c) override {
    c.set_timeout_clock(clock_);
    c.set_timeout(absl::Milliseconds(300));
    connection = &c;
    waker = c.waker();
  }
  void on_bytes(std::string_view) override {}
  void on_timeout() override { *timed_out_ = true; }
  void on_closed(std::string_view) override { connection = nullptr; }

  Connection* connection = nullptr;  // for tasks, which run on its strand
  Waker waker;

 private:
  TimeoutClock clock_;
  bool* timed_out_;
};

// Sends one byte every 50 ms for as long as it is connected (or, without
// `trickle`, stays silent).
class TrickleClient : public ConnectionHandler {
 public:
  TrickleClient(LoopbackRuntime& runtime, std::string* heard, bool* closed, bool trickle = true)
      : runtime_(runtime), heard_(heard), closed_(closed), trickle_(trickle) {}
  void on_open(Connection& c) override {
    connection_ = &c;
    waker_ = c.waker();
    c.set_timeout(absl::Seconds(30));
    if (trickle_) tick();
  }
  void on_bytes(std::string_view b) override { heard_->append(b); }
  void on_timeout() override {}
  void on_closed(std::string_view) override {
    *alive_ = false;
    *closed_ = true;
  }

 private:
  void tick() {
    // A timer's callback is not the connection's: send through its waker,
    // which writes what the task queued.
    runtime_.clock().schedule(absl::Milliseconds(50), [this, alive = alive_] {
      if (!*alive) return;
      waker_([this] { connection_->send("x"); });
      tick();
    });
  }
  LoopbackRuntime& runtime_;
  std::string* heard_;
  bool* closed_;
  bool trickle_;
  Connection* connection_ = nullptr;
  Waker waker_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// TimeoutClock::kPerRequest (Postfix's smtpd_per_request_deadline): bytes
// from the peer no longer restart the timeout, so a trickle of a byte every
// 50 ms meets the 300 ms deadline; under kIdle the same trickle holds on.
TEST(LoopbackRuntimeTest, PerRequestTimeoutIsNotRestartedByThePeer) {
  for (const TimeoutClock clock : {TimeoutClock::kPerRequest, TimeoutClock::kIdle}) {
    LoopbackRuntime runtime;
    bool timed_out = false, closed = false;
    auto port = runtime.listen("127.0.0.1", 0, [&](const ConnectionInfo&) {
      return std::make_unique<TimedHandler>(clock, &timed_out);
    });
    ASSERT_TRUE(port.ok());
    std::string heard;
    runtime.connect("127.0.0.1", *port, std::make_unique<TrickleClient>(runtime, &heard, &closed));
    runtime.run_until([&] { return timed_out; }, absl::Milliseconds(1500), absl::ZeroDuration());
    EXPECT_EQ(timed_out, clock == TimeoutClock::kPerRequest);
  }
}

// A Waker runs its task on the connection from another thread, and what the
// task sends goes out; once the connection is closed its tasks are dropped.
TEST(LoopbackRuntimeTest, WakerRunsTasksOnTheConnectionUntilItCloses) {
  LoopbackRuntime runtime;
  bool timed_out = false, closed = false;
  TimedHandler* server = nullptr;
  auto port = runtime.listen("127.0.0.1", 0, [&](const ConnectionInfo&) {
    auto handler = std::make_unique<TimedHandler>(TimeoutClock::kIdle, &timed_out);
    server = handler.get();
    return handler;
  });
  ASSERT_TRUE(port.ok());
  std::string heard;
  runtime.connect("127.0.0.1", *port, std::make_unique<TrickleClient>(runtime, &heard, &closed, false));
  runtime.run_until([&] { return server != nullptr && server->waker != nullptr; }, absl::Seconds(5),
                    absl::ZeroDuration());
  ASSERT_TRUE(server != nullptr && server->waker != nullptr);
  const Waker waker = server->waker;
  std::thread([&] { waker([server] { server->connection->send("woken\n"); }); }).join();
  runtime.run_until([&] { return heard == "woken\n"; }, absl::Seconds(5), absl::ZeroDuration());
  EXPECT_EQ(heard, "woken\n");
  std::thread([&] { waker([server] { server->connection->close(); }); }).join();
  runtime.run_until([&] { return closed; }, absl::Seconds(5), absl::ZeroDuration());
  ASSERT_TRUE(closed);
  // The server's handler is gone with its connection: a task now is dropped.
  int ran = 0;
  std::thread([&] { waker([&ran] { ++ran; }); }).join();
  runtime.run_until([] { return false; }, absl::Milliseconds(200), absl::ZeroDuration());
  EXPECT_EQ(ran, 0);
}

TEST(LoopbackRuntimeTest, SplitHostPort) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(split_host_port("127.0.0.1:2525", host, port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 2525);
  ASSERT_TRUE(split_host_port("[::1]:25", host, port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(split_host_port("127.0.0.1", host, port).ok());
  EXPECT_FALSE(split_host_port("127.0.0.1:99999", host, port).ok());
  EXPECT_FALSE(split_host_port("[::1]25", host, port).ok());
}

}  // namespace
}  // namespace smtplab::sim
