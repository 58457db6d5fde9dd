#include "agents/smtp/data_framing.hpp"

#include <gtest/gtest.h>

#include <cstdint>

#include "base/absl_string_view.hpp"
#include "absl/strings/escaping.h"

namespace smtplab::smtp {
namespace {

struct Read {
  std::string message;
  std::size_t consumed = 0;
  bool complete = false;
  bool bare = false;
};

Read read_all(std::string_view wire, BareLineEnding mode = BareLineEnding::kReject) {
  DataReader reader(DataLimits{.max_message_octets = 1 << 20, .max_text_line_octets = 1000, .bare_line_ending = mode});
  Read r;
  r.consumed = reader.feed(wire);
  r.complete = reader.complete();
  r.bare = reader.saw_bare_cr_or_lf();
  r.message = reader.take_message();
  return r;
}

// RFC 5321 4.5.2: a leading dot is doubled on the wire and removed on receipt.
TEST(DataFramingTest, StuffingRoundTrip) {
  const std::string message = "Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nend\r\n";
  std::string wire;
  append_dot_stuffed(wire, message);
  EXPECT_EQ(wire, "Subject: dots\r\n\r\n..hidden\r\n...two\r\n..\r\nend\r\n.\r\n");
  Read r = read_all(wire);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(r.message, message);
}

TEST(DataFramingTest, StufferAddsMissingFinalCrlf) {
  std::string wire;
  append_dot_stuffed(wire, "no newline");
  EXPECT_EQ(wire, "no newline\r\n.\r\n");
  std::string empty;
  append_dot_stuffed(empty, "");
  EXPECT_EQ(empty, ".\r\n");
}

// RFC 5321 4.1.1.4: the end of data is CRLF "." CRLF, where the first CRLF may
// be the one ending the DATA command itself (an empty message).
TEST(DataFramingTest, EmptyMessage) {
  Read r = read_all(".\r\n");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.message, "");
}

TEST(DataFramingTest, StopsAtEndAndLeavesPipelinedCommands) {
  Read r = read_all("hi\r\n.\r\nQUIT\r\n");
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.consumed, 7u);
  EXPECT_EQ(r.message, "hi\r\n");
}

TEST(DataFramingTest, ByteByByteFeedingGivesSameResult) {
  const std::string wire = "a\r\n..b\r\n\r\nc.d\r\n.\r\n";
  DataReader reader(DataLimits{});
  for (char c : wire) {
    ASSERT_FALSE(reader.complete());
    EXPECT_EQ(reader.feed(std::string_view(&c, 1)), 1u);
  }
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.take_message(), "a\r\n.b\r\n\r\nc.d\r\n");
}

// The reader copies runs of plain CRLF lines in bulk when a piece holds
// them whole, and reads byte by byte otherwise; both readings must agree on
// everything (text, end, flags, size) for every mode, whatever the text.
// Texts drawn from the bytes that matter to RFC 5321 4.5.2 and 2.3.8: dots,
// CR, LF, and letters, in lines near the 1000-octet limit.
TEST(DataFramingTest, BulkAndByteByByteReadingsAgree) {
  std::uint32_t seed = 12345;
  auto next = [&seed] { return seed = seed * 1664525u + 1013904223u; };
  for (int round = 0; round < 3000; ++round) {
    std::string wire;
    const int lines = 1 + next() % 8;
    for (int l = 0; l < lines; ++l) {
      const std::uint32_t shape = next() % 16;
      if (shape == 0) wire += '.';
      const std::size_t length = shape == 1 ? 997 + next() % 5 : next() % 12;
      for (std::size_t k = 0; k < length; ++k) {
        const std::uint32_t pick = next() % 40;
        wire += pick == 0 ? '\r' : pick == 1 ? '\n' : pick == 2 ? '.' : static_cast<char>('a' + pick % 26);
      }
      wire += (shape == 2 ? "\n" : shape == 3 ? "\r" : "\r\n");
    }
    if (next() % 2 == 0) wire += ".\r\nMAIL FROM:<a@b.example>\r\n";
    for (const auto mode : {BareLineEnding::kReject, BareLineEnding::kNormalize, BareLineEnding::kAcceptAsLineEnd}) {
      const DataLimits limits{.max_message_octets = 1 << 20, .max_text_line_octets = 1000, .bare_line_ending = mode};
      DataReader whole(limits), bytewise(limits);
      const std::size_t consumed = whole.feed(wire);
      std::size_t consumed_bytewise = 0;
      while (consumed_bytewise < wire.size() && !bytewise.complete()) {
        consumed_bytewise += bytewise.feed(std::string_view(wire).substr(consumed_bytewise, 1));
      }
      SCOPED_TRACE(absl::CEscape(av(wire)));
      ASSERT_EQ(consumed, consumed_bytewise);
      ASSERT_EQ(whole.complete(), bytewise.complete());
      ASSERT_EQ(whole.octets(), bytewise.octets());
      ASSERT_EQ(whole.line_too_long(), bytewise.line_too_long());
      ASSERT_EQ(whole.saw_bare_cr_or_lf(), bytewise.saw_bare_cr_or_lf());
      ASSERT_EQ(whole.take_message(), bytewise.take_message());
    }
  }
}

// SMTP smuggling: with the default (RFC 5321 2.3.8), none of the bare-LF/CR
// variants ends the data; only the real CRLF.CRLF does, and the text is flagged.
TEST(DataFramingTest, SmugglingVariantsDoNotEndDataByDefault) {
  for (std::string_view smuggle : {"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r\n.\r"}) {
    std::string wire = "first\r\n";
    wire += smuggle;
    wire += "MAIL FROM:<evil@example.org>\r\n.\r\n";
    Read r = read_all(wire);
    EXPECT_TRUE(r.complete) << absl::CEscape(av(smuggle));
    EXPECT_EQ(r.consumed, wire.size());
    EXPECT_TRUE(r.bare);
    EXPECT_NE(r.message.find("MAIL FROM"), std::string::npos);
  }
}

TEST(DataFramingTest, NormalizeModeConvertsBareLfButNeedsRealEnd) {
  Read r = read_all("a\nb\n.\nc\r\n.\r\n", BareLineEnding::kNormalize);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.message, "a\r\nb\r\n.\r\nc\r\n");
}

// The unsafe mode exists to show smuggling: "<LF>.<LF>" ends the data early.
TEST(DataFramingTest, UnsafeModeEndsAtBareLfDot) {
  const std::string wire = "first\n.\nMAIL FROM:<evil@example.org>\r\n";
  Read r = read_all(wire, BareLineEnding::kAcceptAsLineEnd);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.message, "first\r\n");
  EXPECT_EQ(wire.substr(r.consumed), "MAIL FROM:<evil@example.org>\r\n");
}

// RFC 5321 4.5.3.1.6: 1000 octets with CRLF, not counting a stuffed dot.
TEST(DataFramingTest, TextLineLimit) {
  DataReader ok(DataLimits{});
  ok.feed("." + std::string(998, 'x') + "\r\n.\r\n");
  EXPECT_TRUE(ok.complete());
  EXPECT_FALSE(ok.line_too_long());
  DataReader too_long(DataLimits{});
  too_long.feed(std::string(999, 'x') + "\r\n.\r\n");
  EXPECT_TRUE(too_long.complete());
  EXPECT_TRUE(too_long.line_too_long());
}

// RFC 1870: the size counts the message octets, unstuffed, with CRLFs.
TEST(DataFramingTest, SizeLimitKeepsCountingButStopsStoring) {
  DataReader reader(DataLimits{.max_message_octets = 10});
  reader.feed("0123456789abcdef\r\n.\r\n");
  EXPECT_TRUE(reader.complete());
  EXPECT_TRUE(reader.size_exceeded());
  EXPECT_EQ(reader.octets(), 18u);
  EXPECT_EQ(reader.take_message().size(), 10u);
}

// Message text goes on the wire with CRLF line endings only (RFC 5321
// 2.3.8): a composed body's LF, CR and CRLF all become CRLF, once each.
TEST(DataFramingTest, NormalizeToCrlf) {
  EXPECT_EQ(normalize_to_crlf("a\nb\r\nc\rd"), "a\r\nb\r\nc\r\nd");
  EXPECT_EQ(normalize_to_crlf(""), "");
  EXPECT_EQ(normalize_to_crlf("no ending"), "no ending");
  EXPECT_EQ(normalize_to_crlf("\n"), "\r\n");
  EXPECT_EQ(normalize_to_crlf("\r"), "\r\n");  // a CR at the very end is a line ending too
  EXPECT_EQ(normalize_to_crlf("x\r\r\ny\n\n"), "x\r\n\r\ny\r\n\r\n");
  EXPECT_EQ(normalize_to_crlf("\n\r"), "\r\n\r\n");  // LF then CR: two endings, not one
}

}  // namespace
}  // namespace smtplab::smtp
