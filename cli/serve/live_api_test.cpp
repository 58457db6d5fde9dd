// The HTTP API of smtplab serve, asked directly (no sockets) about a world
// run in virtual time: what it says must be what the agents hold.
#include "cli/serve/live_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "scenarios/scenario_loader.hpp"

namespace smtplab::cli {
namespace {

using Json = nlohmann::json;

class LiveApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/greylisting.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    scenario_ = *loaded.scenario;
    world_ = std::make_unique<scenarios::ScenarioWorld>(scenario_, scenario_.seed);
    ASSERT_TRUE(world_->build().ok());
  }
  HttpAnswer get(std::string_view target) { return answer_api(*world_, info_, "GET", target); }

  scenarios::Scenario scenario_;
  std::unique_ptr<scenarios::ScenarioWorld> world_;
  ServeInfo info_{"greylisting.yaml", 60, "", 8025};
};

// RFC 5321 4.5.4.1: a deferred message stays queued with a retry time; the
// queue answer shows the recipient pending, the 451 it got, and when the
// next attempt is due (Postfix's minimal backoff: 300 s after the defer).
TEST_F(LiveApiTest, QueueShowsTheDeferredRecipientAndItsNextAttempt) {
  world_->run_until(absl::Minutes(1));
  const HttpAnswer a = get("/api/queues");
  ASSERT_EQ(a.status, 200);
  const Json q = Json::parse(a.body);
  ASSERT_EQ(q["mx.example.org"].size(), 1u) << a.body;
  const Json& m = q["mx.example.org"][0];
  EXPECT_EQ(m["from"], "<alice@example.org>");
  EXPECT_EQ(m["subject"], "Lunch on Friday?");
  EXPECT_EQ(m["attempts"], 1);
  EXPECT_EQ(m["recipients"][0]["address"], "bob@example.net");
  EXPECT_EQ(m["recipients"][0]["state"], "pending");
  EXPECT_TRUE(absl::StartsWith(m["recipients"][0]["last_reply"].get<std::string>(), "451 4.7.1")) << m;
  EXPECT_EQ(m["recipients"][0]["last_host"], "mx.example.net");
  const std::int64_t next = m["next_attempt_us"].get<std::int64_t>();
  EXPECT_GE(next, absl::ToInt64Microseconds(absl::Minutes(5)));
  EXPECT_LT(next, absl::ToInt64Microseconds(absl::Minutes(6)));
  EXPECT_TRUE(q["submit.example.org"].empty());
}

TEST_F(LiveApiTest, MailboxesListMessagesAndOneMailboxHasTheText) {
  world_->run();
  const Json boxes = Json::parse(get("/api/mailboxes").body);
  ASSERT_EQ(boxes["mail.example.net"]["bob"].size(), 1u);
  EXPECT_EQ(boxes["mail.example.net"]["bob"][0]["subject"], "Lunch on Friday?");
  EXPECT_FALSE(boxes["mail.example.net"]["bob"][0].contains("content"));  // the list stays small
  EXPECT_TRUE(boxes["mail.example.org"]["alice"].empty());

  const Json bob = Json::parse(get("/api/mailboxes/mail.example.net/bob").body);
  ASSERT_EQ(bob.size(), 1u);
  const std::string content = bob[0]["content"];
  // RFC 5321 4.4: every hop adds a Received line; the MDA adds Return-Path.
  EXPECT_TRUE(absl::StartsWith(content, "Return-Path: <alice@example.org>")) << content;
  EXPECT_TRUE(absl::StrContains(content, "by mx.example.net"));
  EXPECT_TRUE(absl::StrContains(content, "by submit.example.org"));
  EXPECT_TRUE(Json::parse(get("/api/queues").body)["mx.example.org"].empty());
}

TEST_F(LiveApiTest, TraceSinceGivesOnlyLaterEventsAsJsonLines) {
  world_->run();
  const std::size_t total = world_->trace.events().size();
  ASSERT_GT(total, 20u);
  const HttpAnswer all = get("/api/trace");
  EXPECT_EQ(all.content_type, "application/x-ndjson");
  EXPECT_EQ(static_cast<std::size_t>(std::count(all.body.begin(), all.body.end(), '\n')), total);
  const HttpAnswer later = get("/api/trace?since=10");
  EXPECT_EQ(static_cast<std::size_t>(std::count(later.body.begin(), later.body.end(), '\n')), total - 10);
  EXPECT_EQ(Json::parse(later.body.substr(0, later.body.find('\n')))["seq"], 11);
}

TEST_F(LiveApiTest, HostsNameTheScenarioAndEveryAgent) {
  world_->run_until(absl::Seconds(1));  // the lesson's MUA exists once it has sent
  const Json h = Json::parse(get("/api/hosts").body);
  EXPECT_EQ(h["scenario"], scenario_.title);
  EXPECT_EQ(h["time_scale"], 60);
  std::map<std::string, std::string> roles;
  for (const auto& host : h["hosts"]) roles[host["name"]] = host["roles"][0];
  EXPECT_EQ(roles["submit.example.org"], "msa");
  EXPECT_EQ(roles["mx.example.net"], "mta");
  EXPECT_EQ(roles["mail.example.net"], "mda");
  EXPECT_EQ(roles["laptop.example.org"], "mua");
}

TEST_F(LiveApiTest, WrongQuestionsGetClearErrors) {
  EXPECT_EQ(get("/api/nothing").status, 404);
  EXPECT_TRUE(absl::StrContains(get("/api/nothing").body, "GET / lists"));
  EXPECT_EQ(get("/api/mailboxes/mail.example.net/nobody").status, 404);
  EXPECT_EQ(get("/api/mailboxes/nowhere/bob").status, 404);
  EXPECT_EQ(get("/api/trace?since=abc").status, 400);
  EXPECT_EQ(answer_api(*world_, info_, "POST", "/api/queues").status, 405);
  // RFC 6455 4.2.2 / RFC 9110 15.5.22: the stream needs the WebSocket upgrade.
  const HttpAnswer plain_trace = get("/trace");
  EXPECT_EQ(plain_trace.status, 426);
  EXPECT_TRUE(absl::StrContains(plain_trace.body, "--attach ws://127.0.0.1:8025/trace")) << plain_trace.body;
  const HttpAnswer index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_TRUE(absl::StrContains(index.body, "ws://127.0.0.1:8025/trace"));
}

}  // namespace
}  // namespace smtplab::cli
