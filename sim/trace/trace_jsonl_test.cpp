#include "sim/trace/trace_jsonl.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::sim {
namespace {

TraceEvent sample() {
  TraceEvent e;
  e.time_us = 300000000;
  e.sequence = 7;
  e.kind = EventKind::kSmtpReply;
  e.host = "mx.example.net";
  e.agent = "mta";
  e.connection = 3;
  e.message = "Q1";
  e.peer = "relay.example.org";
  e.text = "451 4.7.1 Greylisted, try again in 300 seconds";
  e.code = 451;
  e.explain = "reply.451.greylisted";
  e.details = {{"recipient", "bob@example.net"}, {"delay_s", "300"}};
  return e;
}

TEST(TraceJsonlTest, RoundTripKeepsEveryField) {
  const TraceEvent e = sample();
  const std::string line = to_json_line(e);
  EXPECT_EQ(line.rfind(R"({"t":300000000,"seq":7,"kind":"smtp.reply","host":"mx.example.net")", 0), 0u) << line;
  auto back = parse_json_line(line, 1);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, e);
}

TEST(TraceJsonlTest, EmptyFieldsAreOmitted) {
  TraceEvent e;
  e.kind = EventKind::kNetHeal;
  EXPECT_EQ(to_json_line(e), R"({"t":0,"seq":0,"kind":"net.heal"})");
}

TEST(TraceJsonlTest, BinaryTextDoesNotBreakTheFile) {
  TraceEvent e = sample();
  e.text = std::string("bad \xff\xfe utf8", 12);
  auto back = parse_json_line(to_json_line(e), 1);
  ASSERT_TRUE(back.ok());
  EXPECT_NE(back->text.find("utf8"), std::string::npos);
}

TEST(TraceJsonlTest, ErrorsNameLineAndColumn) {
  auto bad = parse_json_line(R"({"t":1,"seq":1,"kind":)", 12);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().substr(0, 19), "line 12, column 23:") << bad.status();
  auto missing = parse_json_line(R"({"t":1,"seq":1})", 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing \"kind\""), std::string::npos);
  auto wrong = parse_json_line(R"({"t":"soon","seq":1,"kind":"x"})", 4);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("\"t\" has the wrong type"), std::string::npos);
}

TEST(TraceJsonlTest, FileRoundTripAndTruncation) {
  const auto path = (std::filesystem::temp_directory_path() / "smtplab_trace_test.jsonl").string();
  std::vector<TraceEvent> events = {sample(), sample()};
  events[1].sequence = 8;
  ASSERT_TRUE(write_jsonl(events, path).ok());
  auto read = read_jsonl(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, events);
  // Cut the file in the middle of the second line.
  const auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 20);
  auto truncated = read_jsonl(path);
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.status().message().find(path + ": line 2, column"), std::string::npos) << truncated.status();
  std::filesystem::remove(path);
}

// A folder where a file was expected is an error, not an exception.
TEST(TraceJsonlTest, FolderIsReportedNotThrown) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  auto read = read_jsonl(dir);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("is a folder"), std::string::npos) << read.status();
}

// A kind no version of smtplab records is an error with the line, not an
// event the audit and the viewers would silently skip.
TEST(TraceJsonlTest, UnknownKindIsAnErrorWithItsLine) {
  auto e = parse_json_line(R"({"t":0,"seq":1,"kind":"queue.defered"})", 4);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "line 4: \"queue.defered\" is not a trace event kind");
  auto good = parse_json_line(R"({"t":0,"seq":1,"kind":"queue.defer"})", 4);
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->kind, EventKind::kQueueDefer);
}

// Every kind's name reads back as that kind: the table and the lookup agree.
TEST(TraceKindsTest, EveryNameReadsBackAsItsKind) {
  for (const EventKindInfo& k : all_event_kinds()) {
    EXPECT_EQ(event_kind_named(k.name), k.kind) << k.name;
  }
  EXPECT_EQ(event_kind_named("queue"), std::nullopt);
}

TEST(TraceTest, MessageLevelKeepsOnlyMessageEvents) {
  Scheduler clock;
  Trace trace(clock, TraceLevel::kMessages);
  TraceEvent line;
  line.kind = EventKind::kSmtpCommand;
  trace.record(line);
  TraceEvent queued;
  queued.kind = EventKind::kQueueEnqueue;
  trace.record(queued);
  ASSERT_EQ(trace.events().size(), 1u);
  EXPECT_EQ(trace.events()[0].kind, EventKind::kQueueEnqueue);
  EXPECT_EQ(trace.events()[0].sequence, 1u);
}

}  // namespace
}  // namespace smtplab::sim
