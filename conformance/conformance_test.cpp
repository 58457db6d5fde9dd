// The checks are honest: against the project's own server every MUST holds,
// and a server broken in one way fails exactly the check for that way.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/mta/mta.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "sim/tls/test_pki.hpp"
#include "sim/loopback/loopback_network.hpp"
#include "conformance/runner.hpp"
#include "conformance/testing/broken_server.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace smtplab::conformance {
namespace {

// Our server engine on a loopback port, in a thread of its own.
class ServerUnderTest {
 public:
  // `defect`: a server broken in that one way (conformance/testing/).
  explicit ServerUnderTest(smtp::ServerSettings settings, std::optional<testing::Defect> defect = std::nullopt) {
    agents::ServerEndpointSettings endpoint;
    endpoint.session = settings;
    if (defect) endpoint.make_tap = testing::tap_for(*defect);
    endpoint.session.hostname = "mx.smtplab.example";
    // Every server under test can do STARTTLS, with a certificate from a
    // CA the probe trusts, so the TLS checks run too.
    auto pki = tls::make_test_pki("mx.smtplab.example");
    EXPECT_TRUE(pki.ok()) << pki.status();
    if (pki.ok()) {
      endpoint.tls = pki->server_context;
      endpoint.session.offer_starttls = true;
      client_tls_ = pki->client_context;
    }
    auto port = runtime_.listen("127.0.0.1", 0, [this, endpoint](const sim::ConnectionInfo& info) {
      return std::make_unique<agents::SmtpServerEndpoint>(policy_, endpoint, info);
    });
    port_ = port.value();
    thread_ = std::thread([this] { runtime_.run(); });
  }
  ~ServerUnderTest() {
    runtime_.stop();
    thread_.join();
  }
  Target target() const {
    Target t;
    t.host = "127.0.0.1";
    t.port = port_;
    t.profile = Profile::kSink;
    t.timeout = std::chrono::milliseconds(2000);
    t.tls.context = client_tls_;
    t.tls.server_name = "mx.smtplab.example";
    return t;
  }

 private:
  // The recording policy accepts mail for anyone: a sink.
  smtp::testing::RecordingPolicy policy_;
  std::shared_ptr<const tls::TlsContext> client_tls_;
  sim::LoopbackRuntime runtime_;
  int port_ = 0;
  std::thread thread_;
};

std::map<std::string, Outcome> outcomes(const std::vector<CheckResult>& results) {
  std::map<std::string, Outcome> out;
  for (const auto& r : results) out[r.check->id] = r.verdict.outcome;
  return out;
}

TEST(ConformanceTest, ThereAreAtLeastFortyChecksWithReferences) {
  EXPECT_GE(all_checks().size(), 40u);
  for (const auto& c : all_checks()) {
    EXPECT_NE(c.reference.find("RFC"), std::string::npos) << c.id;
    EXPECT_FALSE(c.title.empty()) << c.id;
  }
}

TEST(ConformanceTest, OurServerMeetsEveryMust) {
  ServerUnderTest server({});
  const auto results = run_checks(server.target(), select_checks({}));
  for (const auto& r : results) {
    if (r.check->level == Level::kMust) {
      EXPECT_NE(r.verdict.outcome, Outcome::kFail) << r.check->id << ": " << r.verdict.message;
    }
  }
  EXPECT_TRUE(must_requirements_hold(results));
  const auto o = outcomes(results);
  EXPECT_EQ(o.at("ext.pipelining_order"), Outcome::kPass);
  EXPECT_EQ(o.at("security.smuggling_lf_dot_lf"), Outcome::kPass);
  EXPECT_EQ(o.at("seq.rcpt_before_mail"), Outcome::kPass);
  // The TLS checks ran, and passed: a verified certificate, a clean restart.
  EXPECT_EQ(o.at("tls.handshake"), Outcome::kPass);
  EXPECT_EQ(o.at("tls.certificate"), Outcome::kPass);
  EXPECT_EQ(o.at("tls.session_restarts"), Outcome::kPass);
  EXPECT_EQ(o.at("tls.no_starttls_inside_tls"), Outcome::kPass);
  EXPECT_EQ(o.at("security.starttls_injection"), Outcome::kPass);
}

// --starttls: every check runs inside TLS (RFC 3207), and every MUST still holds.
TEST(ConformanceTest, EveryMustHoldsInsideTls) {
  ServerUnderTest server({});
  Target t = server.target();
  t.tls.mode = ProbeTls::Mode::kStartTls;
  const auto results = run_checks(t, select_checks({}));
  for (const auto& r : results) {
    if (r.check->level == Level::kMust) {
      EXPECT_NE(r.verdict.outcome, Outcome::kFail) << r.check->id << ": " << r.verdict.message;
    }
  }
  // The transcript shows the upgrade before the check's own commands.
  const auto& mail = *std::find_if(results.begin(), results.end(),
                                   [](const CheckResult& r) { return r.check->id == "seq.rcpt_before_mail"; });
  const bool upgraded = std::any_of(mail.transcript.begin(), mail.transcript.end(), [](const TranscriptLine& l) {
    return l.who == '*' && l.text.rfind("TLS established", 0) == 0;
  });
  EXPECT_TRUE(upgraded);
}

// Break switch: a server that treats a bare LF as a line end is open to SMTP
// smuggling; the smuggling checks must say so, and only they.
TEST(ConformanceTest, BareLfServerFailsTheSmugglingChecks) {
  smtp::ServerSettings broken;
  broken.bare_line_ending = smtp::BareLineEnding::kAcceptAsLineEnd;
  ServerUnderTest server(broken);
  const auto results = run_checks(server.target(), select_checks({.only = {"security.", "seq."}}));
  const auto o = outcomes(results);
  EXPECT_EQ(o.at("security.smuggling_lf_dot_lf"), Outcome::kFail);
  EXPECT_EQ(o.at("security.smuggling_crlf_dot_lf"), Outcome::kFail);
  EXPECT_EQ(o.at("security.smuggling_cr_dot_cr"), Outcome::kPass);  // CR alone is still not a line end
  EXPECT_EQ(o.at("seq.rcpt_before_mail"), Outcome::kPass);
  EXPECT_FALSE(must_requirements_hold(results));
}

// Each deliberate defect makes the check written for it fail, and leaves the
// checks about other things passing: a check that cannot fail proves nothing.
struct Breakage {
  const char* name;
  std::optional<testing::Defect> defect;
  std::function<void(smtp::ServerSettings&)> apply;
  std::vector<std::string> must_fail;
};

class BreakSwitchTest : public ::testing::TestWithParam<Breakage> {};

TEST_P(BreakSwitchTest, OnlyTheMatchingChecksFail) {
  smtp::ServerSettings settings;
  if (GetParam().apply) GetParam().apply(settings);
  ServerUnderTest server(settings, GetParam().defect);
  const auto results = run_checks(server.target(), select_checks({}));
  std::set<std::string> failed;
  for (const auto& r : results) {
    if (r.verdict.outcome == Outcome::kFail) failed.insert(r.check->id);
  }
  for (const auto& id : GetParam().must_fail) {
    EXPECT_TRUE(failed.count(id)) << id << " should fail with " << GetParam().name;
  }
  // Nothing unrelated fails (a broken multi-line reply confuses what follows,
  // so that one may take neighbours down with it).
  if (std::string(GetParam().name) != "broken_multiline") {
    for (const auto& id : failed) {
      EXPECT_NE(std::find(GetParam().must_fail.begin(), GetParam().must_fail.end(), id), GetParam().must_fail.end())
          << id << " failed too with " << GetParam().name;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Defects, BreakSwitchTest,
    ::testing::Values(
        Breakage{"sequence", testing::Defect::kSkipSequenceChecks, {},
                 // RSET and EHLO are checked by seeing RCPT refused after them.
                 {"seq.rcpt_before_mail", "seq.data_before_rcpt", "seq.rset", "ehlo.resets_transaction"}},
        Breakage{"broken_multiline", testing::Defect::kBrokenMultiline, {},
                 {"ehlo.multiline"}},
        Breakage{"starttls_injection", testing::Defect::kKeepInputAfterStartTls, {},
                 {"security.starttls_injection"}},
        Breakage{"reversed_replies", testing::Defect::kReversePipelinedReplies, {},
                 {"ext.pipelining_order"}},
        Breakage{"unknown_commands", testing::Defect::kAcceptUnknownCommands, {},
                 {"syntax.unknown_command", "robust.garbage_line"}},
        Breakage{"starttls_inside_tls", testing::Defect::kStartTlsInsideTls, {},
                 {"tls.no_starttls_inside_tls"}},
        Breakage{"keep_ehlo_after_tls", testing::Defect::kKeepEhloAfterTls, {},
                 {"tls.session_restarts"}},
        Breakage{"bare_lf_splits_commands", testing::Defect::kSplitCommandAtBareLf, {},
                 {"security.bare_lf_command_split"}},
        Breakage{"smuggling", std::nullopt,
                 [](smtp::ServerSettings& s) { s.bare_line_ending = smtp::BareLineEnding::kAcceptAsLineEnd; },
                 {"security.smuggling_lf_dot_lf", "security.smuggling_lf_dot_crlf", "security.smuggling_crlf_dot_lf"}}),
    [](const ::testing::TestParamInfo<Breakage>& info) { return std::string(info.param.name); });

// The project's MTA, as an MX for its domain on real sockets: every MUST
// holds under the mx profile (no open relay, postmaster accepted...).
TEST(ConformanceTest, OurMtaMeetsEveryMustAsAnMx) {
  sim::LoopbackRuntime runtime;
  sim::LoopbackNetwork network(runtime);
  sim::SimDns dns(runtime.clock(), nullptr);
  ASSERT_TRUE(network.add_host("mx.smtplab.example", "192.0.2.25").ok());
  agents::MtaSettings settings;
  settings.local_domains = {"smtplab.example"};
  settings.mda_host = "mail.smtplab.example";
  settings.mda_address = "192.0.2.26";  // never reached: no transaction is completed
  agents::Mta mta(agents::HostContext{"mx.smtplab.example", "192.0.2.25", runtime.clock(), network, &dns, nullptr,
                                      nullptr},
                  settings);
  ASSERT_TRUE(mta.start().ok());
  const auto [address, port] = network.real_endpoint("mx.smtplab.example", 25);
  std::thread server([&] { runtime.run(); });
  Target t;
  t.host = address;
  t.port = port;
  t.profile = Profile::kMx;
  t.timeout = std::chrono::milliseconds(2000);
  const auto results = run_checks(t, select_checks({}));
  runtime.stop();
  server.join();
  for (const auto& r : results) {
    if (r.check->level == Level::kMust) {
      EXPECT_NE(r.verdict.outcome, Outcome::kFail) << r.check->id << ": " << r.verdict.message;
    }
  }
  EXPECT_EQ(outcomes(results).at("security.open_relay"), Outcome::kPass);
}

// An MX that relays for anyone fails the open-relay check (mx profile).
TEST(ConformanceTest, OpenRelayIsCaughtOnTheMxProfile) {
  ServerUnderTest server({});  // the recording policy accepts every recipient
  Target t = server.target();
  t.profile = Profile::kMx;
  const auto results = run_checks(t, select_checks({.only = {"security.open_relay"}}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].verdict.outcome, Outcome::kFail);
}

// Break switch: no SIZE enforcement ... our engine always enforces, so use a
// server that advertises a tiny limit and check the check reads it.
TEST(ConformanceTest, SizeLimitIsReadFromEhlo) {
  smtp::ServerSettings small;
  small.max_message_octets = 5000;
  ServerUnderTest server(small);
  const auto results = run_checks(server.target(), select_checks({.only = {"ext.size_enforced"}}));
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].verdict.outcome, Outcome::kPass);
  EXPECT_EQ(results[0].verdict.message, "limit 5000");
}

TEST(ConformanceTest, UnreachableServerFailsCleanly) {
  Target t;
  t.host = "127.0.0.1";
  t.port = 1;  // nothing listens
  t.timeout = std::chrono::milliseconds(500);
  const auto results = run_checks(t, select_checks({.only = {"greeting.220", "seq.quit"}}));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].verdict.outcome, Outcome::kFail);
  EXPECT_NE(results[0].verdict.message.find("cannot connect"), std::string::npos);
  EXPECT_FALSE(must_requirements_hold(results));
}

TEST(ConformanceTest, ReportsAreWellFormed) {
  ServerUnderTest server({});
  const auto results = run_checks(server.target(), select_checks({.only = {"greeting.", "seq."}}));
  const std::string junit = junit_report(server.target(), results);
  EXPECT_EQ(junit.rfind("<?xml", 0), 0u);
  EXPECT_NE(junit.find("<testsuite name=\"Sequencing\""), std::string::npos);
  const std::string json = json_report(server.target(), results);
  EXPECT_NE(json.find("\"must_requirements_hold\": true"), std::string::npos);
  const std::string console = console_report(server.target(), results, false);
  EXPECT_NE(console.find("Verdict: every MUST holds"), std::string::npos);
}

// The list tools and the docs' tests read (`conform --list_checks --json`):
// every selected check, in order, with the group the reports file it under.
TEST(ConformanceTest, CheckListNamesEverySelectedCheckWithItsGroup) {
  const auto checks = select_checks({.only = {"tls.", "auth."}});
  ASSERT_FALSE(checks.empty());
  const auto list = nlohmann::json::parse(json_check_list(checks));
  ASSERT_EQ(list.size(), checks.size());
  for (std::size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(list[i]["id"], checks[i]->id);
    EXPECT_EQ(list[i]["group"], "TLS") << checks[i]->id;  // auth.* is filed with TLS, as the report shows it
    EXPECT_EQ(list[i]["reference"], checks[i]->reference);
    EXPECT_EQ(list[i]["level"], std::string(level_name(checks[i]->level)));
  }
}

}  // namespace
}  // namespace smtplab::conformance
