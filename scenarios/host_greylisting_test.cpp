// Greylisting per host, and what relay_from does to it: a backup MX that
// greylists like its primary delays the mail twice, and a primary that does
// not trust its backup greylists it too (RFC 5321 5.1: the backup is just
// another client to the primary, unless it is listed in relay_from).
#include <gtest/gtest.h>

#include <string>

#include "scenarios/expectations.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::scenarios {
namespace {

// example.net greylists; mx1 is down for the first 10 minutes, so the
// message goes to the backup mx2, which forwards it to mx1.
std::string backup_mx(const std::string& domain_extra, const std::string& mx2_extra) {
  return "domains:\n"
         "  example.org: {users: [alice]}\n"
         "  example.net:\n"
         "    users: [bob]\n"
         "    greylisting: {delay: 300s}\n"
         "    mx: [{host: mx1.example.net, preference: 10}, {host: mx2.example.net, preference: 20}]\n" +
         domain_extra +
         "hosts:\n"
         "  mx2.example.net:\n"
         "    transport: {example.net: mx1.example.net}\n" +
         mx2_extra +
         "actions:\n"
         "  - {at: 0s, host_down: mx1.example.net}\n"
         "  - {at: 10m, host_up: mx1.example.net}\n"
         "send:\n"
         "  - {at: 1s, from: alice@example.org, to: bob@example.net}\n";
}

struct Greylisted {
  int by_mx1 = 0;  // 451 4.7.1 replies from each
  int by_mx2 = 0;
  bool delivered = false;
};

Greylisted run(const std::string& text) {
  const LoadResult loaded = load_scenario_text(text, "backup.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  Greylisted out;
  if (!loaded.ok()) return out;
  ScenarioWorld world(*loaded.scenario, 1);
  EXPECT_TRUE(world.build().ok());
  world.run();
  for (const auto& e : world.trace.events()) {
    if (e.kind == sim::EventKind::kSmtpReply && e.code == 451 && e.text.find("4.7.1") != std::string::npos) {
      if (e.host == "mx1.example.net") ++out.by_mx1;
      if (e.host == "mx2.example.net") ++out.by_mx2;
    }
    if (e.kind == sim::EventKind::kMailboxDeliver) out.delivered = true;
  }
  return out;
}

TEST(HostGreylistingTest, DomainSettingGreylistsAtEveryMx) {
  const Greylisted g = run(backup_mx("", ""));
  EXPECT_EQ(g.by_mx2, 1);  // the sender's first try at the backup
  EXPECT_EQ(g.by_mx1, 1);  // and the backup's first try at the primary
  EXPECT_TRUE(g.delivered);
}

TEST(HostGreylistingTest, HostCanTurnItsDomainsGreylistingOff) {
  const Greylisted g = run(backup_mx("", "    greylisting: false\n"));
  EXPECT_EQ(g.by_mx2, 0);
  EXPECT_EQ(g.by_mx1, 1);  // the primary still greylists the backup
  EXPECT_TRUE(g.delivered);
}

TEST(HostGreylistingTest, RelayFromMakesThePrimaryTrustItsBackup) {
  const Greylisted g = run(backup_mx("    relay_from: [mx2.example.net]\n", "    greylisting: false\n"));
  EXPECT_EQ(g.by_mx2, 0);
  EXPECT_EQ(g.by_mx1, 0);  // a trusted client skips the policies (greylisting, rate limits)
  EXPECT_TRUE(g.delivered);
}

TEST(HostGreylistingTest, HostCanGreylistWhenItsDomainDoesNot) {
  std::string text = backup_mx("", "    greylisting: {delay: 60s}\n");
  const std::string domain_setting = "    greylisting: {delay: 300s}\n";
  text.erase(text.find(domain_setting), domain_setting.size());
  const Greylisted g = run(text);
  EXPECT_EQ(g.by_mx2, 1);
  EXPECT_EQ(g.by_mx1, 0);
  EXPECT_TRUE(g.delivered);
}

}  // namespace
}  // namespace smtplab::scenarios
