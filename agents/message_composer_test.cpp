#include "agents/message_composer.hpp"

#include <gtest/gtest.h>

namespace smtplab::agents {
namespace {

// RFC 5322 3.6: the origination date and originator fields are required;
// lines end in CRLF (RFC 5322 2.1).
TEST(MessageComposerTest, ComposesHeadersAndCrlfBody) {
  MessageDraft d{"alice@a.example", {"bob@b.example", "carol@c.example"}, "Hello", "one\ntwo\n",
                 absl::FromUnixSeconds(1700000000), "1@a.example"};
  EXPECT_EQ(compose_message(d),
            "From: alice@a.example\r\nTo: bob@b.example, carol@c.example\r\nSubject: Hello\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@a.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
            "one\r\ntwo\r\n");
}

// RFC 5322 3.3: date-time to the second. The last second's text is kept,
// so going back and forth between seconds, and fractions of a second on
// either side of 1970, must still give what the formatter gives.
TEST(MessageComposerTest, DateIsRightWhateverWasFormattedBefore) {
  const absl::Time base = absl::FromUnixSeconds(1700000000);
  const absl::Duration steps[] = {absl::ZeroDuration(), absl::Milliseconds(999), absl::Seconds(1),
                                  absl::Milliseconds(10), absl::Seconds(-1), absl::Hours(24 * 365 * 54) * -1,
                                  absl::Milliseconds(-1) - absl::Hours(24 * 365 * 54), absl::Seconds(1)};
  for (const absl::Duration step : steps) {
    const absl::Time t = base + step;
    EXPECT_EQ(format_rfc5322_date(t), absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", t, absl::UTCTimeZone()))
        << absl::FormatTime(t);
  }
  EXPECT_EQ(format_rfc5322_date(base), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(format_rfc5322_date(base + absl::Milliseconds(999)), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(format_rfc5322_date(base + absl::Seconds(1)), "Tue, 14 Nov 2023 22:13:21 +0000");
}

// RFC 2047 encoded-word for a non-ASCII subject; 8bit body marked as such.
TEST(MessageComposerTest, EightBitText) {
  MessageDraft d{"a@a.example", {"b@b.example"}, "Gr\xC3\xBC\xC3\x9F" "e", "Gr\xC3\xBC\xC3\x9F" "e",
                 absl::FromUnixSeconds(0), "x@y"};
  const std::string m = compose_message(d);
  EXPECT_NE(m.find("Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"), std::string::npos) << m;
  EXPECT_NE(m.find("charset=utf-8"), std::string::npos);
  EXPECT_NE(m.find("Content-Transfer-Encoding: 8bit"), std::string::npos);
}

// A one-character body without a line end still ends with CRLF.
TEST(MessageComposerTest, ShortBodyGetsCrlf) {
  MessageDraft d{"a@a.example", {"b@b.example"}, "s", "y", absl::FromUnixSeconds(0), "x@y"};
  const std::string m = compose_message(d);
  EXPECT_EQ(m.substr(m.size() - 7), "\r\n\r\ny\r\n");
}

}  // namespace
}  // namespace smtplab::agents
