#include "scenarios/scenario_loader.hpp"
#include "sim/time_text.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace smtplab::scenarios {
namespace {

// A folder given as the scenario is an error that says so, not a crash.
TEST(ScenarioLoaderTest, FolderIsReportedNotThrown) {
  const LoadResult r = load_scenario_file(std::filesystem::temp_directory_path().string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error_text().find("is a folder"), std::string::npos) << r.error_text();
}

// The five-line scenario of the issue: two domains, one message.
TEST(ScenarioLoaderTest, SmallestScenarioLoads) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice]}\n"
      "  example.net: {users: [bob]}\n"
      "send:\n"
      "  - {from: alice@example.org, to: bob@example.net}\n",
      "five.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  EXPECT_EQ(r.scenario->domains.size(), 2u);
  ASSERT_EQ(r.scenario->actions.size(), 1u);
  EXPECT_EQ(r.scenario->actions[0].send.to, std::vector<std::string>{"bob@example.net"});
}

TEST(ScenarioLoaderTest, TypoGetsLineColumnAndSuggestion) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.net:\n"
      "    users: [bob]\n"
      "    greylistng: {delay: 300s}\n",
      "typo.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].where.line, 4);
  EXPECT_EQ(r.errors[0].where.column, 5);
  const std::string text = r.errors[0].to_string();
  EXPECT_EQ(text.rfind("typo.yaml:4:5: unknown key 'greylistng' in domain 'example.net'; did you mean 'greylisting'?", 0), 0u)
      << text;
}

TEST(ScenarioLoaderTest, ConnectionCacheTakesTrueOrLimits) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice], connection_cache: true}\n"
      "  example.net: {users: [bob], connection_cache: {idle: 5s, reuse_count: 0}}\n"
      "  example.com: {users: [carol]}\n",
      "cache.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  const auto& d = r.scenario->domains;
  ASSERT_TRUE(d[0].connection_cache);
  EXPECT_EQ(d[0].connection_cache->idle_limit, absl::Seconds(2));  // Postfix's default
  ASSERT_TRUE(d[1].connection_cache);
  EXPECT_EQ(d[1].connection_cache->idle_limit, absl::Seconds(5));
  EXPECT_EQ(d[1].connection_cache->reuse_count_limit, 0);
  EXPECT_FALSE(d[2].connection_cache);

  auto bad = load_scenario_text(
      "domains:\n"
      "  example.org:\n"
      "    users: [alice]\n"
      "    connection_cache: {idel: 5s, reuse_count: -1}\n",
      "bad.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string text = bad.error_text();
  EXPECT_NE(text.find("bad.yaml:4:24: unknown key 'idel' in connection_cache; did you mean 'idle'?"), std::string::npos)
      << text;

  auto maybe = load_scenario_text("domains:\n  example.org: {users: [alice], connection_cache: maybe}\n", "m.yaml");
  ASSERT_FALSE(maybe.ok());
  EXPECT_NE(maybe.error_text().find("connection_cache must be true, false, or a mapping"), std::string::npos)
      << maybe.error_text();
  // Zero would silently turn the cache off.
  auto zero = load_scenario_text("domains:\n  example.org: {users: [alice], connection_cache: {idle: 0s}}\n", "z.yaml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error_text().find("connection_cache.idle must be longer than 0s"), std::string::npos)
      << zero.error_text();
}

// A mistyped key in a domain is one error: the domain itself still counts,
// so its senders and users are not reported as unknown too.
// The file loads with exactly one error, and that one says `hint`.
void expect_one_error_saying(const std::string& yaml, const std::string& hint) {
  auto r = load_scenario_text(yaml, "typo.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u) << r.error_text();
  EXPECT_NE(r.errors[0].to_string().find(hint), std::string::npos) << r.error_text();
}

TEST(ScenarioLoaderTest, TypoInADomainIsOneError) {
  expect_one_error_saying(
      "domains:\n"
      "  example.org: {users: [alice], connection_cach: true}\n"
      "  example.net: {users: [bob]}\n"
      "send: {from: alice@example.org, to: bob@example.net}\n",
      "did you mean 'connection_cache'?");
}

// YAML 1.2 3.2.1.1: keys are unique. A second block for a domain or a host
// would silently replace the first; it is an error at the second, naming
// the first. Domain names ignore case (RFC 5321 2.4), so Example.org counts.
TEST(ScenarioLoaderTest, AKeyGivenTwiceIsPointedAt) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice]}\n"
      "  example.net: {users: [bob]}\n"
      "  example.org: {users: [zed]}\n"
      "  Example.NET: {users: [carol]}\n"
      "send: {from: alice@example.org, to: bob@example.net, subject: a, subject: b}\n",
      "twice.yaml");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 3u) << r.error_text();
  EXPECT_EQ(r.errors[0].to_string(),
            "twice.yaml:4:3: 'example.org' appears twice in this mapping (first at line 2, column 3); the second "
            "would replace the first, so merge them into one");
  EXPECT_EQ(r.errors[1].to_string(),
            "twice.yaml:5:3: domain 'Example.NET' is 'example.net' again (first at line 3, column 3): domain names "
            "ignore case, so merge the two");
  EXPECT_EQ(r.errors[2].to_string(),
            "twice.yaml:6:66: 'subject' appears twice in this mapping (first at line 6, column 54); the second "
            "would replace the first, so merge them into one");
}

// A misspelt key in an event expectation is one error, the one that helps.
TEST(ScenarioLoaderTest, TypoInAnEventExpectationIsOneError) {
  expect_one_error_saying(
      "domains:\n"
      "  example.org: {users: [alice]}\n"
      "  example.net: {users: [bob]}\n"
      "send: {from: alice@example.org, to: bob@example.net}\n"
      "expect:\n"
      "  - event: {kind: queue.defer, txt: Greylisted}\n",
      "did you mean 'text'?");
}

TEST(ScenarioLoaderTest, BadValuesArePointedAt) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice]}\n"
      "actions:\n"
      "  - at: soon\n"
      "    host_down: mx.example.org\n"
      "  - at: 1m\n"
      "    send: {from: alice@example.org, to: 'bob at example.net'}\n"
      "  - at: 2m\n"
      "    fault: {host: mx.example.org, step: rcpt, reply: '250 fine'}\n"
      "expect:\n"
      "  - delivred: bob@example.net\n",
      "bad.yaml");
  ASSERT_FALSE(r.ok());
  const std::string all = r.error_text();
  EXPECT_NE(all.find("bad.yaml:4:9: at: 'soon' is not a duration"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:7:41: to 'bob at example.net' is not an email address"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:9:54: reply must be an SMTP error reply"), std::string::npos) << all;
  EXPECT_NE(all.find("bad.yaml:11:5: unknown expectation 'delivred'; did you mean 'delivered'?"), std::string::npos)
      << all;
}

TEST(ScenarioLoaderTest, UnknownHostsAndSendersAreCaught) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice]}\n"
      "actions:\n"
      "  - {at: 0s, host_down: mx.exampel.org}\n"
      "  - {at: 0s, send: {from: mallory@example.org, to: bob@example.net}}\n",
      "hosts.yaml");
  ASSERT_FALSE(r.ok());
  const std::string all = r.error_text();
  EXPECT_NE(all.find("no host named 'mx.exampel.org'; did you mean 'mx.example.org'?"), std::string::npos) << all;
  EXPECT_NE(all.find("'mallory' is not a user of example.org"), std::string::npos) << all;
}

// Things that would silently never work are refused when the file is read.
TEST(ScenarioLoaderTest, CatchesWhatCouldNeverWork) {
  auto r = load_scenario_text(
      "max_duration: 1d\n"
      "domains:\n"
      "  club.example: {users: [editor]}\n"
      "actions:\n"
      "  - {at: 0s, fault: {host: mail.club.example, step: rcpt, reply: 451 4.3.2 busy}}\n"
      "  - {at: 0s, fault: {host: mx.club.example, step: rcpt, reply: 451 4.3.2 busy, times: 0}}\n"
      "  - {at: 2d, host_down: mx.club.example}\n"
      "  - at: 0s\n"
      "    send: {from: editr@club.example, to: x@y.example}\n"
      "expect:\n"
      "  - event: {kind: queue.deferr}\n",
      "never.yaml");
  ASSERT_FALSE(r.ok());
  const std::string all = r.error_text();
  EXPECT_NE(all.find("never.yaml:5:28: 'mail.club.example' is not an MTA or MSA"), std::string::npos) << all;
  EXPECT_NE(all.find("times: 0 would never fire"), std::string::npos) << all;
  EXPECT_NE(all.find("never.yaml:7:5: this action is at 2d, after the run ends"), std::string::npos) << all;
  EXPECT_NE(all.find("never.yaml:9:18: 'editr' is not a user of club.example; did you mean 'editor'?"),
            std::string::npos) << all;
  EXPECT_NE(all.find("'queue.deferr' is not a trace event kind; did you mean 'queue.defer'?"), std::string::npos) << all;
}

TEST(ScenarioLoaderTest, BrokenYamlIsAnErrorNotACrash) {
  for (const char* text : {"domains: [", "- just\n- a list\n", "domains:\n  example.org: {users: alice}\n", "", "\t\x01",
                           "domains: {a: {users: [{password: x}]}}"}) {
    auto r = load_scenario_text(text, "broken.yaml");
    EXPECT_FALSE(r.ok()) << text;
    EXPECT_FALSE(r.errors.empty()) << text;
  }
}

// The loader hands the world typed values, with the agents' own defaults
// for what a scenario leaves out.
TEST(ScenarioLoaderTest, ValuesAreTypedWithTheAgentsDefaults) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice], tls: {certificate: wrong_name}}\n"
      "  example.net:\n"
      "    users: [bob]\n"
      "    greylisting: true\n"
      "    rate_limit: {messages: 3}\n"
      "    mx: [mx1.example.net, {host: mx2.example.net, preference: 50}, mx3.example.net]\n"
      "actions:\n"
      "  - {at: 0s, send: {from: alice@example.org, to: bob@example.net, via: MX1.example.net:2525}}\n"
      "  - {at: 1s, send: {from: alice@example.org, to: bob@example.net, via: mx2.example.net}}\n"
      "  - at: 2s\n"
      "    dns: {name: example.net, mx: [mx3.example.net, {host: mx1.example.net, preference: 5}]}\n",
      "typed.yaml");
  ASSERT_TRUE(r.ok()) << r.error_text();
  const Scenario& s = *r.scenario;
  ASSERT_TRUE(s.domains[0].tls);
  EXPECT_EQ(s.domains[0].tls->certificate, tls::CertificateProblem::kWrongName);
  const DomainSpec& net = s.domains[1];
  ASSERT_TRUE(net.greylisting && net.rate_limit);
  EXPECT_EQ(net.greylisting->delay, agents::GreylistSettings{}.delay);  // postgrey's 300 s
  EXPECT_EQ(net.rate_limit->max_messages, 3);
  EXPECT_EQ(net.rate_limit->window, agents::RateLimitSettings{}.window);
  // RFC 5321 5.1: lower preference first; unnumbered records follow the previous one.
  ASSERT_EQ(net.mx.size(), 3u);
  EXPECT_EQ(net.mx[0].preference, 10);
  EXPECT_EQ(net.mx[1].preference, 50);
  EXPECT_EQ(net.mx[2].preference, 60);
  ASSERT_EQ(s.actions.size(), 3u);
  ASSERT_TRUE(s.actions[0].send.via);
  EXPECT_EQ(s.actions[0].send.via->host, "mx1.example.net");
  EXPECT_EQ(s.actions[0].send.via->port, 2525);
  ASSERT_TRUE(s.actions[1].send.via);
  EXPECT_FALSE(s.actions[1].send.via->port.has_value());
  // The dns action reads its MX list with the same rules as a domain's.
  ASSERT_EQ(s.actions[2].dns_mx.size(), 2u);
  EXPECT_EQ(s.actions[2].dns_mx[0].preference, 10);
  EXPECT_EQ(s.actions[2].dns_mx[1].preference, 5);
}

TEST(ScenarioLoaderTest, BadPortsAndMxRecordsArePointedAt) {
  auto r = load_scenario_text(
      "domains:\n"
      "  example.org: {users: [alice], mx: mx.example.org}\n"
      "actions:\n"
      "  - {at: 0s, send: {from: alice@example.org, to: b@example.net, via: 'mx.example.org:smtp'}}\n"
      "  - {at: 0s, send: {from: alice@example.org, to: b@example.net, via: 'mx.example.org:70000'}}\n"
      "  - {at: 1s, dns: {name: example.org, mx: [{host: mx.example.org, pref: 5}]}}\n",
      "ports.yaml");
  ASSERT_FALSE(r.ok());
  const std::string all = r.error_text();
  EXPECT_NE(all.find("ports.yaml:2:37: mx must be a list of host names"), std::string::npos) << all;
  EXPECT_NE(all.find("via: 'smtp' is not a port (1 to 65535)"), std::string::npos) << all;
  EXPECT_NE(all.find("via: '70000' is not a port (1 to 65535)"), std::string::npos) << all;
  EXPECT_NE(all.find("ports.yaml:6:67: unknown key 'pref' in an MX record (valid keys: host, preference)"),
            std::string::npos) << all;
  EXPECT_EQ(r.errors.size(), 4u) << all;  // one error each, nothing said twice
}

// One line of scenarios/testdata/durations.txt: what the loader and the JSON
// Schema both must say of a duration's text.
struct DurationExample {
  std::string verdict;  // accept, reject, too-long
  std::string text;
  std::int64_t microseconds = 0;
};

std::vector<DurationExample> duration_examples() {
  std::ifstream in(std::string(SMTPLAB_SCENARIOS_TESTDATA_DIR) + "/durations.txt");
  std::vector<DurationExample> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    DurationExample e;
    fields >> e.verdict;
    if (e.verdict == "accept") {
      fields >> e.text >> e.microseconds;
    } else {  // the rest of the line, spaces and all
      std::getline(fields >> std::ws, e.text);
    }
    out.push_back(e);
  }
  return out;
}

TEST(ScenarioLoaderTest, DurationsFollowTheSharedExamples) {
  const auto examples = duration_examples();
  ASSERT_GT(examples.size(), 20u) << "scenarios/testdata/durations.txt not found or too short";
  for (const auto& e : examples) {
    SCOPED_TRACE(e.verdict + " " + e.text);
    const auto d = parse_scenario_duration(e.text);
    if (e.verdict == "accept") {
      ASSERT_TRUE(d.ok()) << d.status();
      EXPECT_EQ(absl::ToInt64Microseconds(*d), e.microseconds);
    } else {
      ASSERT_FALSE(d.ok());
      const std::string why(d.status().message());
      EXPECT_NE(why.find(e.verdict == "too-long" ? "longer than a scenario can run" : "is not a duration"),
                std::string::npos) << why;
    }
  }
  EXPECT_FALSE(parse_scenario_duration("").ok());
}

TEST(ScenarioLoaderTest, DurationErrorsNameTheLineAndShowTheGrammar) {
  auto r = load_scenario_text("domains:\n  example.net: {users: [bob]}\nmax_duration: 1w\n", "d.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(),
            "d.yaml:3:15: max_duration: '1w' is not a duration (examples: 300s, 5m, 1h30m, 1d, 250ms, or 90 for "
            "seconds)");
  auto ok = load_scenario_text("domains:\n  example.net: {users: [bob]}\nmax_duration: 1h30m\n", "d.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error_text();
  EXPECT_EQ(ok.scenario->max_duration, absl::Minutes(90));
}

// What the tools print as a duration (sim/time_text.hpp) is one a scenario
// may write: copied from a report into a file, it means the same.
TEST(ScenarioLoaderTest, PrintedDurationsReadBack) {
  for (const absl::Duration d : {absl::Microseconds(20), absl::Milliseconds(250), absl::Milliseconds(1500),
                                 absl::Seconds(45), absl::Minutes(5), absl::Seconds(4000), absl::Minutes(90),
                                 absl::Hours(60), absl::Hours(120) + absl::Seconds(30)}) {
    const std::string text = sim::duration_text(d);
    const auto back = parse_scenario_duration(text);
    ASSERT_TRUE(back.ok()) << text << ": " << back.status();
    EXPECT_EQ(*back, d) << text;
  }
}

TEST(ScenarioLoaderTest, Sizes) {
  EXPECT_EQ(parse_scenario_size("10k").value(), 10240u);
  EXPECT_EQ(parse_scenario_size("2M").value(), 2u * 1024 * 1024);
  EXPECT_FALSE(parse_scenario_size("big").ok());
}

}  // namespace
}  // namespace smtplab::scenarios
