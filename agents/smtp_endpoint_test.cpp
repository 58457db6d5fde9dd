// The engine's sessions over real loopback sockets, through the endpoints
// that glue them to a sim::Connection.
#include <gtest/gtest.h>

#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace smtplab::agents {
namespace {

smtp::OutgoingMessage message_to(std::string to) {
  smtp::OutgoingMessage m;
  m.reverse_path = smtp::parse_path("<alice@a.example>").value();
  m.recipients.push_back({smtp::parse_path("<" + to + ">").value(), {}});
  m.content = "Subject: loopback\r\n\r\n.dot line\r\n";
  return m;
}

TEST(SmtpEndpointTest, ClientAndServerOverLoopback) {
  smtp::testing::RecordingPolicy policy;
  ServerEndpointSettings settings;
  sim::LoopbackRuntime runtime;
  auto port = runtime.listen("127.0.0.1", 0, [&](const sim::ConnectionInfo& info) {
    return std::make_unique<SmtpServerEndpoint>(policy, settings, info);
  });
  ASSERT_TRUE(port.ok());
  smtp::ClientSession client({});
  client.enqueue(message_to("bob@b.example"));
  client.enqueue(message_to("nobody@b.example"));
  client.finish();
  std::string why;
  runtime.connect("127.0.0.1", *port, std::make_unique<SmtpClientEndpoint>(client, ClientTimeouts{}, [&](std::string_view w) {
    why = std::string(w);
    runtime.stop();
  }));
  runtime.run();
  EXPECT_TRUE(client.done());
  ASSERT_EQ(client.results().size(), 2u);
  EXPECT_TRUE(client.results()[0].accepted());
  EXPECT_EQ(client.results()[1].deciding_reply()->code, 550);
  ASSERT_EQ(policy.stored.size(), 1u);
  EXPECT_EQ(policy.stored[0].message, "Subject: loopback\r\n\r\n.dot line\r\n");
}

// RFC 5321 4.5.3.2.7: a server closes a silent client after its timeout,
// saying 421 first (RFC 5321 3.8).
TEST(SmtpEndpointTest, IdleClientGets421AndIsClosed) {
  smtp::testing::RecordingPolicy policy;
  ServerEndpointSettings settings;
  settings.idle_timeout = absl::Milliseconds(200);
  sim::LoopbackRuntime runtime;
  auto port = runtime.listen("127.0.0.1", 0, [&](const sim::ConnectionInfo& info) {
    return std::make_unique<SmtpServerEndpoint>(policy, settings, info);
  });
  ASSERT_TRUE(port.ok());

  // A raw client that never says anything; it writes what it hears into
  // strings owned by the test, since the runtime destroys handlers at close.
  struct Silent : sim::ConnectionHandler {
    std::string* heard;
    std::string* why;
    sim::LoopbackRuntime* runtime;
    void on_open(sim::Connection& c) override { c.set_timeout(absl::Seconds(30)); }
    void on_bytes(std::string_view b) override { heard->append(b); }
    void on_timeout() override {}
    void on_closed(std::string_view w) override {
      *why = std::string(w);
      runtime->stop();
    }
  };
  std::string heard, why;
  auto silent = std::make_unique<Silent>();
  silent->heard = &heard;
  silent->why = &why;
  silent->runtime = &runtime;
  runtime.connect("127.0.0.1", *port, std::move(silent));
  runtime.run();
  EXPECT_NE(heard.find("220 "), std::string::npos) << heard;
  EXPECT_NE(heard.find("421 4.4.2"), std::string::npos) << heard;
  EXPECT_EQ(why, "closed by peer");
}

}  // namespace
}  // namespace smtplab::agents
