// The scenario format's TLS settings end up as the TLS the agents really
// do: each certificate problem gives its own verification failure, and the
// STARTTLS faults behave as a sender sees them.
#include <gtest/gtest.h>

#include <algorithm>

#include "absl/strings/str_cat.h"

#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::scenarios {
namespace {

struct TlsRun {
  std::unique_ptr<Scenario> scenario;
  std::unique_ptr<ScenarioWorld> world;
  RunSummary summary;

  std::vector<const sim::TraceEvent*> events(sim::EventKind kind) const {
    std::vector<const sim::TraceEvent*> out;
    for (const auto& e : world->trace.events()) {
      if (e.kind == kind) out.push_back(&e);
    }
    return out;
  }
};

// example.org (outgoing: OUTGOING) sends one message to example.net (tls: NET_TLS).
TlsRun run(const std::string& net_tls, const std::string& outgoing = "may") {
  const std::string text = "domains:\n"
                           "  example.org: {users: [alice], tls: {outgoing: " + outgoing + "}}\n"
                           "  example.net: {users: [bob], tls: " + net_tls + "}\n"
                           "send:\n"
                           "  - {from: alice@example.org, to: bob@example.net}\n";
  auto loaded = load_scenario_text(text, "tls.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  TlsRun r;
  r.scenario = std::make_unique<Scenario>(*loaded.scenario);
  r.world = std::make_unique<ScenarioWorld>(*r.scenario, 1);
  EXPECT_TRUE(r.world->build().ok());
  r.summary = r.world->run();
  return r;
}

struct CertificateCase {
  const char* certificate;
  const char* explain;
  const char* reason;
};

class CertificateProblemTest : public ::testing::TestWithParam<CertificateCase> {};

// Opportunistic TLS: each broken certificate is named in the trace, and
// the message is delivered all the same (RFC 7435).
TEST_P(CertificateProblemTest, NamedInTheTraceAndDeliveredUnderMay) {
  TlsRun r = run(absl::StrCat("{certificate: ", GetParam().certificate, "}"));
  const auto handshakes = r.events(sim::EventKind::kTlsHandshake);
  const auto mta = std::find_if(handshakes.begin(), handshakes.end(),
                                [](const sim::TraceEvent* e) { return e->host == "mx.example.org"; });
  ASSERT_NE(mta, handshakes.end());
  EXPECT_EQ((*mta)->explain, GetParam().explain);
  ASSERT_NE((*mta)->detail("verify_result"), nullptr);
  EXPECT_EQ(*(*mta)->detail("verify_result"), GetParam().reason);
  EXPECT_EQ(r.summary.delivered, 1u);
}

// verify: the same certificates stop delivery with 454 4.7.5.
TEST_P(CertificateProblemTest, DefersUnderVerify) {
  TlsRun r = run(absl::StrCat("{certificate: ", GetParam().certificate, "}"), "verify");
  EXPECT_EQ(r.summary.delivered, 0u);
  const auto defers = r.events(sim::EventKind::kQueueDefer);
  ASSERT_FALSE(defers.empty());
  EXPECT_NE(defers.front()->text.find("454 4.7.5"), std::string::npos) << defers.front()->text;
}

INSTANTIATE_TEST_SUITE_P(
    Certificates, CertificateProblemTest,
    ::testing::Values(CertificateCase{"expired", "tls.unverified.expired", "certificate has expired"},
                      CertificateCase{"not_yet_valid", "tls.unverified.not_yet_valid", "certificate is not yet valid"},
                      CertificateCase{"wrong_name", "tls.unverified.wrong_name", "hostname mismatch"},
                      CertificateCase{"self_signed", "tls.unverified.self_signed", "self-signed certificate"},
                      CertificateCase{"unknown_ca", "tls.unverified.unknown_ca",
                                      "unable to get local issuer certificate"}),
    [](const auto& info) { return std::string(info.param.certificate); });

TEST(ScenarioTlsTest, GoodCertificateVerifies) {
  TlsRun r = run("true", "verify");
  EXPECT_EQ(r.summary.delivered, 1u);
  ASSERT_FALSE(r.events(sim::EventKind::kTlsHandshake).empty());
  EXPECT_EQ(r.events(sim::EventKind::kTlsHandshake).back()->explain, "tls.verified");
}

// RFC 3207 4: 454 to STARTTLS; an opportunistic sender carries on in
// plaintext on the same connection, a required-TLS sender defers.
TEST(ScenarioTlsTest, StartTlsRefusedWith454) {
  TlsRun may = run("{starttls: refused}");
  bool saw_454 = false;
  for (const auto* e : may.events(sim::EventKind::kSmtpReply)) saw_454 |= e->host == "mx.example.net" && e->code == 454;
  EXPECT_TRUE(saw_454);
  EXPECT_EQ(may.summary.delivered, 1u);
  TlsRun verify = run("{starttls: refused}", "verify");
  EXPECT_EQ(verify.summary.delivered, 0u);
}

TEST(ScenarioTlsTest, StartTlsNotOfferedMeansPlaintextOrNothing) {
  TlsRun may = run("{starttls: not_offered}");
  // TLS inside example.org still happens; none with mx.example.net.
  for (const auto* e : may.events(sim::EventKind::kTlsHandshake)) EXPECT_NE(e->peer, "mx.example.net");
  EXPECT_EQ(may.summary.delivered, 1u);
  TlsRun encrypt = run("{starttls: not_offered}", "encrypt");
  EXPECT_EQ(encrypt.summary.delivered, 0u);
}

TEST(ScenarioTlsTest, BadTlsValuesArePointedAt) {
  auto r = load_scenario_text("domains:\n  example.net: {users: [bob], tls: {certificate: rotten}}\n", "bad.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error_text().find("bad.yaml:2:"), std::string::npos) << r.error_text();
  EXPECT_NE(r.error_text().find("expired"), std::string::npos) << r.error_text();  // lists the valid values
}

}  // namespace
}  // namespace smtplab::scenarios
