// The trace contract (sim/trace/trace_kinds.hpp) holds: every event kind is
// documented in docs/trace.md, has an explanation, is produced somewhere (by
// a library lesson or by one of the small worlds below, each made to show
// what the lessons do not), and carries only the detail keys listed for it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agents/session_tracer.hpp"
#include "agents/smtp/reply_reason.hpp"
#include "agents/smtp/server_session.hpp"
#include "agents/smtp/testing/recording_policy.hpp"
#include "agents/testing/failing_queue_store.hpp"
#include "agents/testing/mail_world.hpp"
#include "scenarios/explanations.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::scenarios {
namespace {

namespace fs = std::filesystem;
using sim::EventKind;
using sim::TraceEvent;

// What a set of traces showed: each kind, where it was first seen, and the
// detail keys it carried.
struct Seen {
  std::map<EventKind, std::string> where;
  std::map<EventKind, std::set<std::string>> detail_keys;

  void add(const std::vector<TraceEvent>& events, const std::string& source) {
    for (const auto& e : events) {
      where.emplace(e.kind, source);
      for (const auto& [key, value] : e.details) detail_keys[e.kind].insert(key);
    }
  }
};

void library_traces_into(Seen& seen) {
  for (const auto& entry : fs::directory_iterator(fs::path(SMTPLAB_LIBRARY_DIR) / "golden")) {
    auto events = sim::read_jsonl(entry.path().string());
    EXPECT_TRUE(events.ok()) << events.status();
    if (events.ok()) seen.add(*events, entry.path().filename().string());
  }
}

// A partition that heals, and a backup MX with nothing listening.
std::vector<TraceEvent> partition_and_refusal() {
  agents::testing::MailWorld w;
  w.network.partition("mx.example.org", "mx1.example.net");
  w.network.stop_listening("mx2.example.net", 25);
  w.send({"bob@example.net"});
  w.run_for(absl::Minutes(10));
  w.network.heal("mx.example.org", "mx1.example.net");
  w.run();
  return w.trace.events();
}

// The connection dies after the final dot and before the reply (RFC 1047):
// a first run finds when mx1.example.net has the message, a second run
// resets its connections at that moment.
std::vector<TraceEvent> lost_reply() {
  std::int64_t data_at = -1;
  {
    agents::testing::MailWorld w;
    w.send({"bob@example.net"});
    w.run();
    for (const auto& e : w.trace.events()) {
      if (e.kind == EventKind::kSmtpData && e.host == "mx1.example.net") data_at = e.time_us;
    }
  }
  EXPECT_GE(data_at, 0);
  agents::testing::MailWorld w;
  w.send({"bob@example.net"});
  w.scheduler.schedule_at(absl::Microseconds(data_at), [&] { w.network.reset_connections("mx1.example.net"); });
  w.run();
  return w.trace.events();
}

// A bounce that cannot be delivered is dropped (RFC 5321 4.5.5).
std::vector<TraceEvent> bounce_of_a_bounce() {
  agents::testing::MailWorld w;
  w.network.stop_listening("mail.example.org", 24);
  w.org_mda = nullptr;
  w.dns.set("mail.example.org", {.failure = sim::DnsFailure::kNone});
  w.send({"nobody@example.net"});
  w.run();
  return w.trace.events();
}

// A spool whose first write fails (queue.spool_error), then an MTA restarted
// on it (queue.recover).
std::vector<TraceEvent> spool_failure_and_restart() {
  agents::testing::MailWorld w;
  agents::testing::FailingQueueStore store;
  store.fail_next_saves = 1;
  auto restart = [&] {
    agents::MtaSettings settings = w.org_mx->settings();
    w.network.stop_listening("mx.example.org", 25);
    w.org_mx = std::make_unique<agents::Mta>(w.context("mx.example.org"), settings);
    w.org_mx->use_store(store);
    EXPECT_TRUE(w.org_mx->start().ok());
  };
  restart();
  w.network.set_host_up("mx1.example.net", false);
  w.network.set_host_up("mx2.example.net", false);
  w.send({"bob@example.net"});
  w.run_for(absl::Minutes(30));  // 451 first, then queued at mx.example.org
  restart();
  w.network.set_host_up("mx1.example.net", true);
  w.run();
  return w.trace.events();
}

// A command line over the limit (smtp.error) and plaintext pipelined behind
// STARTTLS (smtp.discarded), as the server session's tracer records them.
std::vector<TraceEvent> broken_client_lines() {
  sim::Scheduler clock;
  sim::Trace trace(clock);
  agents::SessionTracer tracer(trace, "mx.example.net", "mta", "client.example", 1);
  smtp::testing::RecordingPolicy policy;
  smtp::ServerSettings settings;
  settings.offer_starttls = true;
  smtp::ServerSession session(policy, settings, "192.0.2.1:40000", &tracer);
  session.start();
  session.receive("EHLO client.example\r\nNOOP " + std::string(20000, 'x') +
                  "\r\nSTARTTLS\r\nMAIL FROM:<evil@example.com>\r\n");
  return trace.events();
}

// An attacker on a link where STARTTLS goes through: it sees only records.
std::vector<TraceEvent> attacker_blinded_by_tls() {
  const LoadResult loaded = load_scenario_text(R"(title: blind attacker
summary: TLS hides the message from someone on the link.
domains:
  example.org: {users: [alice], tls: {outgoing: may}}
  example.net: {users: [bob], tls: {certificate: good}}
attacker: {between: [mx.example.org, mx.example.net], strip_starttls: false}
send: {from: alice@example.org, to: bob@example.net}
)",
                                               "blind.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  if (!loaded.ok()) return {};
  ScenarioWorld world(*loaded.scenario, 1);
  EXPECT_TRUE(world.build().ok());
  world.run();
  return world.trace.events();
}

Seen everything_produced() {
  Seen seen;
  library_traces_into(seen);
  seen.add(partition_and_refusal(), "partition_and_refusal");
  seen.add(lost_reply(), "lost_reply");
  seen.add(bounce_of_a_bounce(), "bounce_of_a_bounce");
  seen.add(spool_failure_and_restart(), "spool_failure_and_restart");
  seen.add(broken_client_lines(), "broken_client_lines");
  seen.add(attacker_blinded_by_tls(), "attacker_blinded_by_tls");
  return seen;
}

std::set<std::string> declared_details(const sim::EventKindInfo& k, bool& any_recipient) {
  std::set<std::string> keys;
  any_recipient = false;
  std::stringstream in{std::string(k.details)};
  for (std::string key; std::getline(in, key, ',');) {
    if (key == "*") {
      any_recipient = true;
    } else if (!key.empty()) {
      keys.insert(key);
    }
  }
  return keys;
}

TEST(TraceContractTest, EveryKindIsProducedAndCarriesOnlyItsOwnDetails) {
  const Seen seen = everything_produced();
  for (const sim::EventKindInfo& k : sim::all_event_kinds()) {
    // Only the import of a capture (a layer above this one) records it; its
    // own test checks it the same way (capture/capture_import_test.cpp).
    if (k.kind == sim::EventKind::kCaptureFinding) continue;
    auto where = seen.where.find(k.kind);
    EXPECT_NE(where, seen.where.end()) << k.name << " is produced by no library lesson and no world of this test";
    bool any_recipient = false;
    const std::set<std::string> declared = declared_details(k, any_recipient);
    auto used = seen.detail_keys.find(k.kind);
    if (used == seen.detail_keys.end()) continue;
    for (const std::string& key : used->second) {
      const bool allowed = declared.count(key) || (any_recipient && key.find('@') != std::string::npos);
      EXPECT_TRUE(allowed) << k.name << " carries the detail \"" << key << "\" (first seen in " << where->second
                           << "), which sim/trace/trace_kinds.hpp does not list for it";
    }
  }
}

TEST(TraceContractTest, EveryKindIsExplained) {
  for (const sim::EventKindInfo& k : sim::all_event_kinds()) {
    TraceEvent e;
    e.kind = k.kind;
    EXPECT_FALSE(explain_event(e).empty()) << k.name;
    EXPECT_TRUE(explain_query(k.name).has_value()) << k.name;
  }
  for (const char* reason : smtp::reply_reason::kAll) {
    EXPECT_FALSE(explain_reply_reason(reason).empty()) << reason;
  }
}

TEST(TraceContractTest, EveryKindIsInDocsTraceMd) {
  std::ifstream in(fs::path(SMTPLAB_LIBRARY_DIR) / ".." / ".." / "docs" / "trace.md");
  ASSERT_TRUE(in);
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const sim::EventKindInfo& k : sim::all_event_kinds()) {
    EXPECT_NE(doc.find(std::string("`") + k.name + "`"), std::string::npos) << k.name << " is not in docs/trace.md";
  }
}

}  // namespace
}  // namespace smtplab::scenarios
