#include "agents/smtp/address.hpp"

#include <gtest/gtest.h>

namespace smtplab::smtp {
namespace {

// RFC 5321 4.1.2 Path grammar.
TEST(AddressTest, ParsesPlainPath) {
  auto p = parse_path("<alice@example.org>");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->mailbox.local_part, "alice");
  EXPECT_EQ(p->mailbox.domain, "example.org");
  EXPECT_EQ(p->to_string(), "<alice@example.org>");
}

TEST(AddressTest, QuotedLocalPartKeepsQuotes) {
  auto p = parse_path(R"(<"john \"j\" doe"@example.org>)");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->mailbox.local_part, R"("john \"j\" doe")");
}

// RFC 5321 4.1.3 address literals.
TEST(AddressTest, AddressLiterals) {
  EXPECT_TRUE(parse_path("<a@[192.0.2.1]>").ok());
  EXPECT_TRUE(parse_path("<a@[IPv6:2001:db8::1]>").ok());
  EXPECT_FALSE(parse_path("<a@[192.0.2.256]>").ok());
  EXPECT_FALSE(parse_path("<a@[IPv6:zz::1]>").ok());
  EXPECT_FALSE(parse_path("<a@[1.2.3]>").ok());
}

// RFC 5321 4.5.5: the null reverse-path is valid for MAIL only.
TEST(AddressTest, NullPathOnlyWhenAllowed) {
  EXPECT_TRUE(parse_path("<>", {.allow_null = true}).value().is_null);
  EXPECT_FALSE(parse_path("<>").ok());
}

// RFC 5321 4.1.1.3: <Postmaster> without a domain is a valid forward-path.
TEST(AddressTest, PostmasterWithoutDomain) {
  auto p = parse_path("<PostMaster>", {.allow_postmaster = true});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->is_postmaster);
  EXPECT_FALSE(parse_path("<postmaster>").ok());
}

// RFC 5321 4.1.1.3 and appendix C: source routes are accepted and ignored.
TEST(AddressTest, SourceRouteIsAcceptedAndIgnored) {
  auto p = parse_path("<@relay.example,@hop.example:bob@example.net>");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->source_route, "@relay.example,@hop.example");
  EXPECT_EQ(p->mailbox.to_string(), "bob@example.net");
}

TEST(AddressTest, ErrorsNameTheColumn) {
  auto p = parse_path("<alice@exa mple.org>");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "column 11: expected '>' closing the path, found ' '");
  auto q = parse_path("<alice.@example.org>");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("column 8"), std::string::npos) << q.status();
  EXPECT_FALSE(parse_path("<alice@-example.org>").ok());
  EXPECT_FALSE(parse_path("<alice@example-.org>").ok());
  EXPECT_FALSE(parse_path("alice@example.org").ok());
  EXPECT_FALSE(parse_path("<alice@example.org").ok());
  EXPECT_FALSE(parse_path("<alice@example.org>x").ok());
}

// RFC 5321 4.5.3.1.1: local part at most 64 octets.
TEST(AddressTest, LocalPartLengthLimit) {
  EXPECT_TRUE(parse_path("<" + std::string(64, 'a') + "@example.org>").ok());
  auto p = parse_path("<" + std::string(65, 'a') + "@example.org>");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("4.5.3.1.1"), std::string::npos);
}

// RFC 6531 3.3: UTF-8 only with SMTPUTF8.
TEST(AddressTest, Utf8NeedsPermission) {
  const std::string addr = "<J\xC3\xBCrgen@b\xC3\xBC" "cher.example>";
  EXPECT_FALSE(parse_path(addr).ok());
  EXPECT_TRUE(parse_path(addr, {.allow_utf8 = true}).ok());
  EXPECT_TRUE(has_non_ascii(addr));
}

// RFC 6152 3: 8-bit text needs BODY=8BITMIME. The scan goes 32 octets,
// then eight, at a time; a high octet is found wherever it sits, in a
// block, a word or the tail.
TEST(AddressTest, NonAsciiFoundAtEveryPosition) {
  for (std::size_t size = 0; size <= 100; ++size) {
    const std::string ascii(size, 'x');
    EXPECT_FALSE(has_non_ascii(ascii)) << size;
    for (std::size_t at = 0; at < size; ++at) {
      std::string text = ascii;
      text[at] = '\x80';
      EXPECT_TRUE(has_non_ascii(text)) << size << " " << at;
    }
  }
  EXPECT_FALSE(has_non_ascii("\x7f\x01 plain\r\n"));
}

// RFC 6531 3.3: UTF-8, not arbitrary high octets.
TEST(AddressTest, InvalidUtf8IsRefused) {
  EXPECT_FALSE(parse_path("<\xff@example.net>", {.allow_utf8 = true}).ok());
  EXPECT_FALSE(parse_path("<a\xc3@example.net>", {.allow_utf8 = true}).ok());  // truncated sequence
  EXPECT_TRUE(parse_path("<\xc3\xa9@example.net>", {.allow_utf8 = true}).ok());
}

}  // namespace
}  // namespace smtplab::smtp
