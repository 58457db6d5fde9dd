// SMTP over real TLS between the endpoints, on in-process links in virtual
// time: STARTTLS (RFC 3207), implicit TLS (RFC 8314), the client TLS
// policies, and the attacks TLS must withstand.
#include <gtest/gtest.h>

#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "sim/tls/test_pki.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/scheduler.hpp"

namespace smtplab::agents {
namespace {

constexpr char kMx[] = "mx.example.net";

smtp::OutgoingMessage message() {
  smtp::OutgoingMessage m;
  m.reverse_path = smtp::parse_path("<alice@example.org>").value();
  m.recipients.push_back({smtp::parse_path("<bob@example.net>").value(), {}});
  m.content = "Subject: over TLS\r\n\r\nsecret text\r\n";
  return m;
}

// Every command line the server received, to prove what did (not) run.
struct CommandLog : smtp::SessionObserver {
  std::vector<std::string>* lines;
  explicit CommandLog(std::vector<std::string>* l) : lines(l) {}
  void on_event(const smtp::SessionEvent& e) override {
    if (e.kind == smtp::SessionEventKind::kCommandReceived) lines->emplace_back(e.text);
  }
};

// A scripted raw peer: the test decides what it says and keeps what it hears.
struct RawPeer : sim::ConnectionHandler {
  std::function<void(sim::Connection&)> opened;
  std::function<void(sim::Connection&, std::string_view)> heard;
  std::string* transcript = nullptr;
  sim::Connection* connection = nullptr;
  void on_open(sim::Connection& c) override {
    connection = &c;
    if (opened) opened(c);
  }
  void on_bytes(std::string_view b) override {
    if (transcript) transcript->append(b);
    if (heard) heard(*connection, b);
  }
  void on_timeout() override {}
  void on_closed(std::string_view) override { connection = nullptr; }
};

// A raw client that says EHLO, then sends `after_ehlo` (STARTTLS, perhaps
// with something pipelined behind it), runs the handshake itself and calls
// `established` once inside TLS; later records go to `inside`.
struct RawStartTls {
  std::shared_ptr<const tls::TlsContext> context;
  absl::Time now;
  std::string after_ehlo = "STARTTLS\r\n";
  std::function<void(sim::Connection&, tls::TlsChannel&)> established;
  std::function<void(sim::Connection&, tls::TlsChannel&)> inside;
  std::unique_ptr<tls::TlsChannel> channel;
  int stage = 0;

  void heard(sim::Connection& c, std::string_view b) {
    if (stage == 0 && b.find("220 ") != std::string::npos) {
      c.send("EHLO attacker.example\r\n");
      stage = 1;
    } else if (stage == 1 && b.find("250 ") != std::string::npos) {
      c.send(after_ehlo);
      stage = 2;
    } else if (stage == 2 && b.find("220 ") != std::string::npos) {
      channel = tls::TlsChannel::client(context, kMx, now).value();
      c.send(channel->take_ciphertext());
      stage = 3;
    } else if (stage >= 3) {
      channel->receive(b);
      if (channel->has_ciphertext()) c.send(channel->take_ciphertext());
      if (stage == 3 && channel->state() == tls::TlsChannel::State::kEstablished) {
        stage = 4;
        if (established) established(c, *channel);
      } else if (stage == 4 && inside) {
        inside(c, *channel);
      }
      if (channel->has_ciphertext()) c.send(channel->take_ciphertext());
    }
  }
};

class TlsEndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(network_.add_host("client.example.org", "192.0.2.10").ok());
    ASSERT_TRUE(network_.add_host(kMx, "192.0.2.25").ok());
    ca_ = std::make_unique<tls::CertificateAuthority>(
        tls::CertificateAuthority::create("smtplab test CA", now() - absl::Hours(24 * 365), now() + absl::Hours(24 * 365))
            .value());
    tls::TlsClientSettings client;
    client.trusted_roots_pem = ca_->root_pem();
    client_context_ = tls::TlsContext::client(client).value();
  }

  absl::Time now() const { return scheduler_.wall_now(); }

  // A server on kMx:25 whose certificate is `spec` (a good one by default).
  void serve(std::optional<tls::CertificateSpec> spec = std::nullopt, tls::TlsServerSettings tls_settings = {},
             bool implicit = false) {
    tls::CertificateSpec s = spec.value_or(good_spec());
    tls_settings.credentials = ca_->issue(s).value();
    ServerEndpointSettings settings;
    settings.session.hostname = kMx;
    settings.session.offer_starttls = true;
    settings.tls = tls::TlsContext::server(tls_settings).value();
    settings.implicit_tls = implicit;
    settings.on_tls = [this](const sim::ConnectionInfo&, const tls::HandshakeReport& r) { server_reports_.push_back(r); };
    ASSERT_TRUE(network_
                    .listen(kMx, 25,
                            [this, settings](const sim::ConnectionInfo& info) {
                              return std::make_unique<SmtpServerEndpoint>(policy_, settings, info,
                                                                          std::make_unique<CommandLog>(&commands_));
                            })
                    .ok());
  }

  tls::CertificateSpec good_spec() const {
    tls::CertificateSpec s;
    s.names = {kMx};
    s.not_before = now() - absl::Hours(24);
    s.not_after = now() + absl::Hours(24 * 90);
    return s;
  }

  // Sends one message with `mode`; returns why the connection ended.
  std::string send(smtp::ClientSettings settings, bool require_verified = false,
                   std::shared_ptr<const tls::TlsContext> context = nullptr) {
    settings.helo_domain = "client.example.org";
    session_ = std::make_unique<smtp::ClientSession>(settings);
    session_->enqueue(message());
    session_->finish();
    ClientTlsOptions tls;
    tls.context = context ? context : client_context_;
    tls.server_name = kMx;
    tls.clock = &scheduler_;
    tls.require_verified = require_verified;
    tls.on_handshake = [this](const tls::HandshakeReport& r) { client_reports_.push_back(r); };
    std::string why;
    network_.connect("client.example.org", "192.0.2.25", 25,
                     std::make_unique<SmtpClientEndpoint>(
                         *session_, ClientTimeouts{}, [&why](std::string_view w) { why = std::string(w); }, tls));
    scheduler_.run();
    return why;
  }

  const smtp::TransactionResult& result() const { return session_->results().at(0); }

  sim::Scheduler scheduler_;
  sim::SimNetwork network_{scheduler_};
  std::unique_ptr<tls::CertificateAuthority> ca_;
  std::shared_ptr<const tls::TlsContext> client_context_;
  smtp::testing::RecordingPolicy policy_;
  std::vector<std::string> commands_;
  std::vector<tls::HandshakeReport> server_reports_, client_reports_;
  std::unique_ptr<smtp::ClientSession> session_;
};

// RFC 3207 4.2: after the handshake the client says EHLO again, and the
// mail travels inside TLS.
TEST_F(TlsEndpointTest, StartTlsThenMailWithAVerifiedCertificate) {
  serve();
  send({.starttls = smtp::ClientTlsMode::kRequired}, /*require_verified=*/true);
  ASSERT_TRUE(result().accepted()) << result().error;
  ASSERT_EQ(policy_.stored.size(), 1u);
  EXPECT_EQ(policy_.stored[0].message, "Subject: over TLS\r\n\r\nsecret text\r\n");
  ASSERT_EQ(client_reports_.size(), 1u);
  EXPECT_TRUE(client_reports_[0].verified) << client_reports_[0].verify_result;
  EXPECT_EQ(client_reports_[0].version, "TLSv1.3");
  ASSERT_EQ(server_reports_.size(), 1u);
  EXPECT_TRUE(server_reports_[0].error.empty());
  ASSERT_GE(commands_.size(), 4u);
  EXPECT_EQ(commands_[0], "EHLO client.example.org");
  EXPECT_EQ(commands_[1], "STARTTLS");
  EXPECT_EQ(commands_[2], "EHLO client.example.org");  // RFC 3207 4.2
  EXPECT_TRUE(session_->tls_active());
}

// What most MTAs do (RFC 3207 4.1 / RFC 7435): an unverifiable certificate
// still beats plaintext, so the message is delivered; the report says why it
// was not verified.
TEST_F(TlsEndpointTest, OpportunisticTlsDeliversDespiteAnExpiredCertificate) {
  tls::CertificateSpec expired = good_spec();
  expired.not_before = now() - absl::Hours(24 * 400);
  expired.not_after = now() - absl::Hours(24 * 10);
  serve(expired);
  send({.starttls = smtp::ClientTlsMode::kOpportunistic});
  EXPECT_TRUE(result().accepted()) << result().error;
  ASSERT_EQ(client_reports_.size(), 1u);
  EXPECT_FALSE(client_reports_[0].verified);
  EXPECT_EQ(client_reports_[0].verify_result, "certificate has expired");
}

// RFC 7672 / RFC 8461 enforce: required TLS with a certificate that does not
// verify sends no mail; the failure is temporary (4.7.5) so the queue retries.
TEST_F(TlsEndpointTest, RequiredTlsRefusesAnExpiredCertificateBeforeAnyMail) {
  tls::CertificateSpec expired = good_spec();
  expired.not_before = now() - absl::Hours(24 * 400);
  expired.not_after = now() - absl::Hours(24 * 10);
  serve(expired);
  send({.starttls = smtp::ClientTlsMode::kRequired}, /*require_verified=*/true);
  EXPECT_FALSE(result().accepted());
  ASSERT_TRUE(result().deciding_reply());
  EXPECT_EQ(result().deciding_reply()->code, 454);
  EXPECT_EQ(result().deciding_reply()->enhanced, "4.7.5");
  EXPECT_TRUE(policy_.stored.empty());
  // The client quit inside TLS without starting a transaction.
  EXPECT_EQ(commands_, (std::vector<std::string>{"EHLO client.example.org", "STARTTLS", "QUIT"}));
}

// RFC 8314 3.3: implicit TLS, the greeting comes inside TLS.
TEST_F(TlsEndpointTest, ImplicitTlsFromTheFirstByte) {
  serve(std::nullopt, {}, /*implicit=*/true);
  send({.tls_active_from_start = true}, /*require_verified=*/true);
  ASSERT_TRUE(result().accepted()) << result().error;
  EXPECT_EQ(commands_.front(), "EHLO client.example.org");
  EXPECT_EQ(std::count(commands_.begin(), commands_.end(), "STARTTLS"), 0);
  ASSERT_EQ(client_reports_.size(), 1u);
  EXPECT_TRUE(client_reports_[0].verified);
}

// No common protocol version: the handshake fails on both sides, the
// client says why, and nothing is delivered.
TEST_F(TlsEndpointTest, NoCommonTlsVersionFailsTheHandshake) {
  tls::TlsServerSettings old_server;
  old_server.max_version = tls::TlsVersion::k1_2;
  serve(std::nullopt, old_server);
  tls::TlsClientSettings modern;
  modern.trusted_roots_pem = ca_->root_pem();
  modern.min_version = tls::TlsVersion::k1_3;
  const std::string why = send({.starttls = smtp::ClientTlsMode::kOpportunistic}, false,
                               tls::TlsContext::client(modern).value());
  EXPECT_NE(why.find("TLS handshake with mx.example.net failed"), std::string::npos) << why;
  EXPECT_NE(why.find("protocol version"), std::string::npos) << why;
  EXPECT_FALSE(result().accepted());
  ASSERT_EQ(server_reports_.size(), 1u);
  EXPECT_FALSE(server_reports_[0].error.empty());
  EXPECT_TRUE(policy_.stored.empty());
}

// A client set to require TLS never sends AUTH or mail to a server that
// does not offer STARTTLS, even one that offers AUTH in plaintext.
TEST_F(TlsEndpointTest, RequiredTlsNeverSendsAuthOrMailInPlaintext) {
  std::string heard_by_server;
  ASSERT_TRUE(network_
                  .listen(kMx, 25,
                          [&](const sim::ConnectionInfo&) {
                            auto peer = std::make_unique<RawPeer>();
                            peer->transcript = &heard_by_server;
                            peer->opened = [](sim::Connection& c) { c.send("220 mx.example.net ESMTP\r\n"); };
                            peer->heard = [](sim::Connection& c, std::string_view b) {
                              if (b.rfind("EHLO", 0) == 0) c.send("250-mx.example.net\r\n250 AUTH PLAIN LOGIN\r\n");
                              if (b.rfind("QUIT", 0) == 0) {
                                c.send("221 bye\r\n");
                                c.close();
                              }
                            };
                            return peer;
                          })
                  .ok());
  send({.starttls = smtp::ClientTlsMode::kRequired, .auth = smtp::ClientCredentials{"alice", "s3cret"}}, true);
  EXPECT_EQ(heard_by_server.find("AUTH"), std::string::npos) << heard_by_server;
  EXPECT_EQ(heard_by_server.find("MAIL"), std::string::npos) << heard_by_server;
  ASSERT_TRUE(result().deciding_reply());
  EXPECT_EQ(result().deciding_reply()->code, 454);
}

// CVE-2011-0411: commands pipelined in plaintext behind STARTTLS must not be
// executed inside the TLS session (RFC 3207 4.2 discards them).
TEST_F(TlsEndpointTest, PlaintextInjectedBehindStartTlsIsNotExecuted) {
  serve();
  std::string inside;  // what the server said inside TLS
  RawStartTls client{client_context_, now(), "STARTTLS\r\nMAIL FROM:<injected@attacker.example>\r\n"};
  client.established = [&](sim::Connection&, tls::TlsChannel& channel) {
    // If MAIL had run, this RCPT would be accepted; it must get 503.
    channel.send("EHLO attacker.example\r\nRCPT TO:<bob@example.net>\r\nQUIT\r\n");
  };
  client.inside = [&](sim::Connection&, tls::TlsChannel& channel) { inside += channel.take_plaintext(); };
  auto peer = std::make_unique<RawPeer>();
  peer->heard = [&](sim::Connection& c, std::string_view b) { client.heard(c, b); };
  network_.connect("client.example.org", "192.0.2.25", 25, std::move(peer));
  scheduler_.run();
  EXPECT_EQ(std::count(commands_.begin(), commands_.end(), "MAIL FROM:<injected@attacker.example>"), 0);
  EXPECT_NE(inside.find("503"), std::string::npos) << inside;
  EXPECT_NE(inside.find("221"), std::string::npos) << inside;
}

// A record that does not decrypt, inside an established session: the
// server hangs up rather than guess (nothing after it can be trusted).
TEST_F(TlsEndpointTest, GarbageInsideTlsClosesTheConnection) {
  serve();
  RawStartTls client{client_context_, now()};
  client.established = [](sim::Connection& c, tls::TlsChannel&) {
    // An application-data record whose contents are noise.
    c.send(std::string("\x17\x03\x03\x00\x20", 5) + std::string(32, '\x5a'));
  };
  bool closed = false;
  absl::Duration closed_at;
  struct Closed : RawPeer {
    bool* flag = nullptr;
    absl::Duration* when = nullptr;
    sim::Scheduler* clock = nullptr;
    void on_closed(std::string_view) override {
      *flag = true;
      *when = clock->now();
    }
  };
  auto peer = std::make_unique<Closed>();
  peer->heard = [&](sim::Connection& c, std::string_view b) { client.heard(c, b); };
  peer->flag = &closed;
  peer->when = &closed_at;
  peer->clock = &scheduler_;
  network_.connect("client.example.org", "192.0.2.25", 25, std::move(peer));
  scheduler_.run();
  EXPECT_EQ(client.stage, 4);
  EXPECT_TRUE(closed);
  // At once, not after the 5-minute idle timeout.
  EXPECT_LT(closed_at, absl::Seconds(1));
  EXPECT_TRUE(policy_.stored.empty());
}

}  // namespace
}  // namespace smtplab::agents
