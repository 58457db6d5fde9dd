// Real TLS handshakes between two in-memory channels: what each certificate
// problem looks like to a client, and the version mismatch that makes a
// handshake fail outright.
#include "sim/tls/tls_channel.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sim/tls/certificate_authority.hpp"

namespace smtplab::tls {
namespace {

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2026, 11, 28, 12, 0, 0), absl::UTCTimeZone());

struct Pair {
  std::unique_ptr<TlsChannel> client, server;
  // Moves records both ways until neither side has anything to say.
  void pump() {
    for (int i = 0; i < 20; ++i) {
      const std::string to_server = client->take_ciphertext();
      const std::string to_client = server->take_ciphertext();
      if (to_server.empty() && to_client.empty()) return;
      server->receive(to_server);
      client->receive(to_client);
    }
  }
};

class TlsChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::create("smtplab test CA", kNow - absl::Hours(24 * 30), kNow + absl::Hours(24 * 365));
    ASSERT_TRUE(ca.ok()) << ca.status();
    ca_ = std::make_unique<CertificateAuthority>(std::move(*ca));
  }

  CertificateSpec spec(std::string name = "mx.example.net") {
    CertificateSpec s;
    s.names = {std::move(name)};
    s.not_before = kNow - absl::Hours(24);
    s.not_after = kNow + absl::Hours(24 * 90);
    return s;
  }

  Pair connect(const CertificateSpec& cert, TlsServerSettings server = {}, TlsClientSettings client = {},
               std::string expected_name = "mx.example.net") {
    auto creds = ca_->issue(cert);
    EXPECT_TRUE(creds.ok()) << creds.status();
    server.credentials = *creds;
    client.trusted_roots_pem = ca_->root_pem();
    auto sctx = TlsContext::server(server);
    auto cctx = TlsContext::client(client);
    EXPECT_TRUE(sctx.ok()) << sctx.status();
    EXPECT_TRUE(cctx.ok()) << cctx.status();
    Pair p;
    p.client = *TlsChannel::client(*cctx, expected_name, kNow);
    p.server = *TlsChannel::server(*sctx);
    p.pump();
    return p;
  }

  std::unique_ptr<CertificateAuthority> ca_;
};

TEST_F(TlsChannelTest, GoodCertificateVerifiesAndCarriesBytesBothWays) {
  Pair p = connect(spec());
  ASSERT_EQ(p.client->state(), TlsChannel::State::kEstablished) << p.client->report().error;
  ASSERT_EQ(p.server->state(), TlsChannel::State::kEstablished) << p.server->report().error;
  const HandshakeReport& r = p.client->report();
  EXPECT_TRUE(r.verified) << r.verify_result;
  EXPECT_EQ(r.verify_result, "ok");
  EXPECT_EQ(r.version, "TLSv1.3");
  EXPECT_FALSE(r.cipher.empty());
  EXPECT_NE(r.peer_subject.find("CN=mx.example.net"), std::string::npos) << r.peer_subject;
  EXPECT_NE(r.peer_issuer.find("CN=smtplab test CA"), std::string::npos) << r.peer_issuer;
  EXPECT_EQ(r.peer_names, "mx.example.net");

  p.client->send("EHLO client.example\r\n");
  p.pump();
  EXPECT_EQ(p.server->take_plaintext(), "EHLO client.example\r\n");
  p.server->send("250 mx.example.net\r\n");
  p.pump();
  EXPECT_EQ(p.client->take_plaintext(), "250 mx.example.net\r\n");
}

TEST_F(TlsChannelTest, RecordsOnTheWireAreNotThePlaintext) {
  Pair p = connect(spec());
  p.client->send("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n");
  const std::string wire = p.client->take_ciphertext();
  EXPECT_FALSE(wire.empty());
  EXPECT_EQ(wire.find("AUTH"), std::string::npos);
}

TEST_F(TlsChannelTest, PlaintextSentDuringTheHandshakeWaitsForIt) {
  auto creds = ca_->issue(spec());
  TlsServerSettings ss;
  ss.credentials = *creds;
  TlsClientSettings cs;
  cs.trusted_roots_pem = ca_->root_pem();
  Pair p{*TlsChannel::client(*TlsContext::client(cs), "mx.example.net", kNow),
         *TlsChannel::server(*TlsContext::server(ss))};
  p.client->send("EHLO early\r\n");
  p.pump();
  EXPECT_EQ(p.server->take_plaintext(), "EHLO early\r\n");
}

// Each certificate problem completes the handshake (the client decides what
// to do) but fails verification with OpenSSL's reason.
struct BadCertificate {
  const char* name;
  std::function<void(CertificateSpec&)> spoil;
  std::string expected_name;
  const char* reason;
};

class BadCertificateTest : public TlsChannelTest, public ::testing::WithParamInterface<BadCertificate> {};

TEST_P(BadCertificateTest, HandshakeCompletesButVerificationFailsWithTheReason) {
  CertificateSpec s = spec();
  GetParam().spoil(s);
  Pair p = connect(s, {}, {}, GetParam().expected_name);
  ASSERT_EQ(p.client->state(), TlsChannel::State::kEstablished) << p.client->report().error;
  EXPECT_FALSE(p.client->report().verified);
  EXPECT_EQ(p.client->report().verify_result, GetParam().reason);
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, BadCertificateTest,
    ::testing::Values(
        BadCertificate{"Expired", [](CertificateSpec& s) {
                         s.not_before = kNow - absl::Hours(24 * 400);
                         s.not_after = kNow - absl::Hours(24);
                       }, "mx.example.net", "certificate has expired"},
        BadCertificate{"NotYetValid", [](CertificateSpec& s) {
                         s.not_before = kNow + absl::Hours(24);
                         s.not_after = kNow + absl::Hours(24 * 400);
                       }, "mx.example.net", "certificate is not yet valid"},
        BadCertificate{"WrongName", [](CertificateSpec&) {}, "mail.other.example", "hostname mismatch"},
        BadCertificate{"SelfSigned", [](CertificateSpec& s) { s.signer = Signer::kSelfSigned; }, "mx.example.net",
                       "self-signed certificate"},
        BadCertificate{"UnknownCa", [](CertificateSpec& s) { s.signer = Signer::kUnknownCa; }, "mx.example.net",
                       "unable to get local issuer certificate"}),
    [](const auto& info) { return std::string(info.param.name); });

// What a scenario's `certificate:` and `smtplab cert --problem` name is the
// fault a client sees (RFC 5280 6.1 for dates and the chain, RFC 6125 for
// the name); "good" verifies.
TEST_F(TlsChannelTest, EachNamedCertificateProblemIsTheFaultTheClientSees) {
  const std::map<std::string, std::string> reason = {
      {"good", "ok"},
      {"expired", "certificate has expired"},
      {"not_yet_valid", "certificate is not yet valid"},
      {"wrong_name", "hostname mismatch"},
      {"self_signed", "self-signed certificate"},
      {"unknown_ca", "unable to get local issuer certificate"},
  };
  ASSERT_EQ(certificate_problem_names().size(), reason.size());
  for (const std::string& name : certificate_problem_names()) {
    SCOPED_TRACE(name);
    const auto problem = parse_certificate_problem(name);
    ASSERT_TRUE(problem.has_value());
    EXPECT_EQ(certificate_problem_name(*problem), name);
    Pair p = connect(certificate_for({"mx.example.net"}, kNow, *problem, "www.example.net"));
    ASSERT_EQ(p.client->state(), TlsChannel::State::kEstablished) << p.client->report().error;
    EXPECT_EQ(p.client->report().verified, name == "good");
    EXPECT_EQ(p.client->report().verify_result, reason.at(name));
  }
  EXPECT_EQ(parse_certificate_problem("none"), CertificateProblem::kNone);
  EXPECT_FALSE(parse_certificate_problem("revoked").has_value());
}

TEST_F(TlsChannelTest, NoCommonVersionFailsTheHandshakeOnBothSides) {
  TlsServerSettings server;
  server.max_version = TlsVersion::k1_2;
  TlsClientSettings client;
  client.min_version = TlsVersion::k1_3;
  Pair p = connect(spec(), server, client);
  EXPECT_EQ(p.client->state(), TlsChannel::State::kFailed);
  EXPECT_EQ(p.server->state(), TlsChannel::State::kFailed);
  EXPECT_NE(p.client->report().error.find("protocol version"), std::string::npos) << p.client->report().error;
}

TEST_F(TlsChannelTest, GarbageInsteadOfTlsFailsCleanly) {
  TlsServerSettings server;
  server.credentials = *ca_->issue(spec());
  auto channel = *TlsChannel::server(*TlsContext::server(server));
  channel->receive("MAIL FROM:<attacker@example>\r\n");
  EXPECT_EQ(channel->state(), TlsChannel::State::kFailed);
  EXPECT_FALSE(channel->report().error.empty());
}

TEST(TlsVersionTest, ParsesTheNamesScenarioFilesUse) {
  EXPECT_EQ(parse_tls_version("1.2"), TlsVersion::k1_2);
  EXPECT_EQ(parse_tls_version("TLSv1.3"), TlsVersion::k1_3);
  EXPECT_FALSE(parse_tls_version("1.4").has_value());
}

}  // namespace
}  // namespace smtplab::tls
