#include "sim/loopback/loopback_runtime.hpp"

#include <gtest/gtest.h>

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
