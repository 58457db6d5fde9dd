// A scenario's agents on real loopback sockets (what `smtplab serve` runs):
// the library lessons meet their own expectations there too, in scaled real
// time, with queues and mailboxes on disk.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/match.h"
#include "scenarios/expectations.hpp"
#include "sim/trace/trace_jsonl.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::scenarios {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "smtplab-loopback-world-XXXXXX").string();
    path = ::mkdtemp(pattern.data()) ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
  std::string path;
};

Scenario load(const std::string& name) {
  LoadResult loaded = load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/" + name);
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  return *loaded.scenario;
}

void expect_all_met(const Scenario& s, const ScenarioWorld& world) {
  const auto results = check_expectations(s, world);
  ASSERT_FALSE(results.empty());
  for (const auto& r : results) {
    EXPECT_TRUE(r.met) << "line " << r.spec->where.line << ": expected " << r.expected << ", found " << r.found;
  }
}

std::string trace_text(const ScenarioWorld& world) {
  std::string out;
  for (const auto& e : world.trace.events()) out += sim::to_json_line(e) + "\n";
  return out;
}

std::size_t files_in(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

// RFC 5321 4.2.5 and 4.5.4.1: a 451 is a temporary failure; the sender keeps
// the message and retries. With time x600 the 300 s greylisting delay and
// the 300 s retry take half a second each.
TEST(ScenarioLoopbackTest, GreylistingLessonMeetsItsExpectationsOnRealSockets) {
  const Scenario s = load("greylisting.yaml");
  TempDir spool;
  ASSERT_FALSE(spool.path.empty());
  sim::LoopbackRuntime runtime;
  runtime.set_time_scale(600);
  ScenarioWorld world(s, runtime, {.spool_root = spool.path});
  ASSERT_TRUE(world.build().ok());
  ASSERT_NE(world.loopback_network(), nullptr);
  const auto* bob_mda = world.mdas.at("mail.example.net").get();
  ASSERT_TRUE(runtime.run_until([&] { return bob_mda->mailbox("bob").size() == 1 && world.queued_messages() == 0; },
                                absl::Seconds(30)))
      << "not delivered within 30 s; the trace:\n" << trace_text(world);
  expect_all_met(s, world);

  // The mailbox is a real Maildir (one file in new/, the Received headers of
  // every hop in it) and every queue file is gone once delivered.
  const fs::path maildir = fs::path(spool.path) / "mail.example.net" / "bob" / "new";
  ASSERT_EQ(files_in(maildir), 1u);
  std::ifstream in(fs::directory_iterator(maildir)->path());
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(absl::StrContains(stored, "Subject: Lunch on Friday?"));
  EXPECT_TRUE(absl::StrContains(stored, "by mx.example.net"));
  EXPECT_EQ(files_in(fs::path(spool.path) / "mx.example.org" / "queue"), 0u);
  EXPECT_EQ(files_in(fs::path(spool.path) / "submit.example.org" / "queue"), 0u);

  // The link's own events are there, as in the simulator, and the server's
  // SMTP lines carry the same connection id as its conn.open.
  std::uint64_t greylisted_conn = 0;
  for (const auto& e : world.trace.events()) {
    if (e.kind == sim::EventKind::kSmtpReply && e.code == 451) greylisted_conn = e.connection;
  }
  ASSERT_NE(greylisted_conn, 0u);
  bool opened = false, closed = false;
  for (const auto& e : world.trace.events()) {
    if (e.connection != greylisted_conn) continue;
    if (e.kind == sim::EventKind::kConnOpen) {
      opened = e.host == "mx.example.org" && e.peer == "mx.example.net";
      // The world's addresses and the server's world port, as in virtual time.
      EXPECT_TRUE(absl::StartsWith(e.text, "192.0.2.")) << e.text;
      EXPECT_TRUE(absl::EndsWith(e.text, ":25")) << e.text;
    }
    closed |= e.kind == sim::EventKind::kConnClose;
  }
  EXPECT_TRUE(opened);
  EXPECT_TRUE(closed);
}

// RFC 5321 5.1: when the preferred MX cannot be reached, try the next one.
// The host_down action runs on real sockets as a connect that times out.
TEST(ScenarioLoopbackTest, HostDownActionSendsMailToTheBackupMx) {
  const Scenario s = load("mx-fallback.yaml");
  sim::LoopbackRuntime runtime;
  runtime.set_time_scale(60);
  ScenarioWorld world(s, runtime, {});
  ASSERT_TRUE(world.build().ok());
  const auto* mda = world.mdas.at("mail.example.net").get();
  ASSERT_TRUE(runtime.run_until([&] { return mda->mailbox("bob").size() == 1; }, absl::Seconds(30)));
  expect_all_met(s, world);
  bool down = false;
  for (const auto& e : world.trace.events()) down |= e.kind == sim::EventKind::kHostDown && e.host == "mx1.example.net";
  EXPECT_TRUE(down);
}

// What a loopback world cannot play is said, not silently dropped.
TEST(ScenarioLoopbackTest, AttackerIsReportedAsNotPlayableOnRealSockets) {
  const Scenario s = load("starttls-stripping.yaml");
  sim::LoopbackRuntime runtime;
  ScenarioWorld world(s, runtime, {});
  ASSERT_TRUE(world.build().ok());
  ASSERT_FALSE(world.warnings().empty());
  EXPECT_TRUE(absl::StrContains(world.warnings().back(), "attacker")) << world.warnings().back();
}

// A client from outside the world (swaks on 127.0.0.1) is one peer, named by
// its address, whatever source port each of its connections has.
TEST(ScenarioLoopbackTest, OutsideClientAppearsUnderItsAddress) {
  const Scenario s = load("direct-delivery.yaml");
  sim::LoopbackRuntime runtime;
  ScenarioWorld world(s, runtime, {});
  ASSERT_TRUE(world.build().ok());
  const auto [ip, port] = world.loopback_network()->real_endpoint("mx.example.net", 25);
  ASSERT_NE(port, 0);

  struct QuitAfterGreeting : sim::ConnectionHandler {
    sim::Connection* c = nullptr;
    bool* closed;
    explicit QuitAfterGreeting(bool* flag) : closed(flag) {}
    void on_open(sim::Connection& connection) override { c = &connection; }
    void on_bytes(std::string_view bytes) override {
      if (bytes.substr(0, 3) == "220") c->send("QUIT\r\n");
    }
    void on_timeout() override {}
    void on_closed(std::string_view) override { *closed = true; }
  };
  bool first = false, second = false;
  runtime.connect(ip, port, std::make_unique<QuitAfterGreeting>(&first));
  runtime.connect(ip, port, std::make_unique<QuitAfterGreeting>(&second));
  ASSERT_TRUE(runtime.run_until([&] { return first && second; }, absl::Seconds(10)));

  int opens = 0, quits = 0;
  for (const auto& e : world.trace.events()) {
    if (e.kind == sim::EventKind::kConnOpen && e.peer == "mx.example.net" && e.host != "mx.example.org") {
      EXPECT_EQ(e.host, "127.0.0.1");
      ++opens;
    }
    if (e.kind == sim::EventKind::kSmtpReply && e.code == 221 && e.host == "mx.example.net" && e.peer != "mx.example.org") {
      EXPECT_EQ(e.peer, "127.0.0.1");
      ++quits;
    }
  }
  EXPECT_EQ(opens, 2);
  EXPECT_EQ(quits, 2);
}

}  // namespace
}  // namespace smtplab::scenarios
