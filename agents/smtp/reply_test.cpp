#include "agents/smtp/reply.hpp"

#include <gtest/gtest.h>

namespace smtplab::smtp {
namespace {

std::vector<absl::StatusOr<Reply>> parse_all(std::string_view bytes) {
  ReplyParser parser;
  parser.feed(bytes);
  std::vector<absl::StatusOr<Reply>> out;
  while (auto r = parser.next()) out.push_back(*r);
  return out;
}

// RFC 5321 4.2.1: multi-line replies use "-" after the code on all but the last line.
TEST(ReplyTest, FormatsMultiLineWithEnhancedCodeOnEveryLine) {
  Reply r{250, "2.0.0", {"first", "second"}};
  EXPECT_EQ(r.format(), "250-2.0.0 first\r\n250 2.0.0 second\r\n");
  EXPECT_EQ(make_reply(354, "", "go ahead").format(), "354 go ahead\r\n");
}

TEST(ReplyTest, ParsesMultiLineReplyAndEnhancedCode) {
  auto replies = parse_all("250-mx.example greets you\r\n250-PIPELINING\r\n250 2.0.0 SIZE 100\r\n");
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_TRUE(replies[0].ok());
  EXPECT_EQ(replies[0]->code, 250);
  EXPECT_EQ(replies[0]->lines.size(), 3u);
  EXPECT_EQ(replies[0]->lines[1], "PIPELINING");
}

// RFC 3463 2: the enhanced code's class must match the reply's first digit.
TEST(ReplyTest, EnhancedCodeOnlyWhenClassMatches) {
  auto ok = parse_all("550 5.1.1 No such user\r\n");
  ASSERT_TRUE(ok[0].ok());
  EXPECT_EQ(ok[0]->enhanced, "5.1.1");
  EXPECT_EQ(ok[0]->text(), "No such user");
  auto mismatch = parse_all("250 5.1.1 looks like a code\r\n");
  ASSERT_TRUE(mismatch[0].ok());
  EXPECT_EQ(mismatch[0]->enhanced, "");
  EXPECT_EQ(mismatch[0]->text(), "5.1.1 looks like a code");
}

TEST(ReplyTest, ReplyArrivingInPiecesIsAssembled) {
  ReplyParser parser;
  parser.feed("22");
  EXPECT_FALSE(parser.next().has_value());
  parser.feed("0 hello\r");
  EXPECT_FALSE(parser.next().has_value());
  parser.feed("\n354 go\r\n");
  auto first = parser.next();
  ASSERT_TRUE(first && first->ok());
  EXPECT_EQ((*first)->code, 220);
  auto second = parser.next();
  ASSERT_TRUE(second && second->ok());
  EXPECT_EQ((*second)->code, 354);
}

TEST(ReplyTest, BareCodeWithoutTextIsValid) {
  auto r = parse_all("250\r\n");
  ASSERT_TRUE(r[0].ok());
  EXPECT_EQ(r[0]->code, 250);
}

// A broken server must be diagnosed, not crash the client (RFC 5321 4.2).
TEST(ReplyTest, MalformedRepliesAreErrors) {
  for (std::string_view bad : {"hello\r\n", "2x0 nope\r\n", "999 bad code\r\n", "250+bad sep\r\n",
                               "25\r\n", "160 too low\r\n"}) {
    auto r = parse_all(bad);
    ASSERT_EQ(r.size(), 1u) << bad;
    EXPECT_FALSE(r[0].ok()) << bad;
  }
  auto changed = parse_all("250-one\r\n251 two\r\n");
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_FALSE(changed[0].ok());
  EXPECT_NE(changed[0].status().message().find("code changed"), std::string::npos);
}

// A server streaming "250-..." forever must not grow the client's memory.
TEST(ReplyTest, EndlessMultiLineReplyIsCutOff) {
  ReplyParser parser;
  std::string lines;
  for (std::size_t i = 0; i < kMaxReplyLines + 5; ++i) lines += "250-more\r\n";
  parser.feed(lines);
  auto r = parser.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok());
}

TEST(ReplyTest, ErrorQuotesTheBadLine) {
  ReplyParser parser;
  parser.feed("XYZ garbage\r\n");
  auto r = parser.next();
  ASSERT_TRUE(r.has_value() && !r->ok());
  EXPECT_NE(r->status().message().find("\"XYZ garbage\""), std::string::npos) << r->status();
}

TEST(ReplyTest, EndlessLineIsCutOff) {
  ReplyParser parser;
  parser.feed("250 " + std::string(kMaxReplyLineOctets + 10, 'a'));
  auto r = parser.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok());
}

}  // namespace
}  // namespace smtplab::smtp
