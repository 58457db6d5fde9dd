#include "agents/auth/spf_record.hpp"

#include "gtest/gtest.h"

namespace smtplab::auth {
namespace {

SpfRecord parsed(std::string_view text) {
  SpfRecordParse p = parse_spf_record(text);
  if (const auto* e = std::get_if<SpfSyntaxError>(&p)) {
    ADD_FAILURE() << text << ": column " << e->column << ": " << e->problem;
    return {};
  }
  return std::get<SpfRecord>(p);
}

SpfSyntaxError refused(std::string_view text) {
  SpfRecordParse p = parse_spf_record(text);
  if (const auto* e = std::get_if<SpfSyntaxError>(&p)) return *e;
  ADD_FAILURE() << text << " parsed";
  return {};
}

// RFC 7208 4.5: which TXT records are SPF records.
TEST(SpfRecord, SelectsVersionOneRecordsOnly) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("V=SPF1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1-all"));
  EXPECT_FALSE(is_spf_record("spf2.0/pra -all"));
}

// RFC 7208 4.6.1, 5 and 6: qualifiers, arguments, prefixes and modifiers.
TEST(SpfRecord, ParsesEveryMechanismAndModifier) {
  SpfRecord r = parsed(
      "v=spf1 +a -mx:mail.example.com/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
      "include:_spf.example.net exists:%{i}.bl.example.org all redirect=example.org exp=why.%{d} x-note=hi");
  ASSERT_EQ(r.mechanisms.size(), 8u);
  EXPECT_EQ(r.mechanisms[0].kind, SpfMechanismKind::kA);
  EXPECT_EQ(r.mechanisms[0].qualifier, SpfQualifier::kPass);
  EXPECT_EQ(r.mechanisms[1].kind, SpfMechanismKind::kMx);
  EXPECT_EQ(r.mechanisms[1].qualifier, SpfQualifier::kFail);
  EXPECT_EQ(r.mechanisms[1].domain_spec, "mail.example.com");
  EXPECT_EQ(r.mechanisms[1].ip4_prefix, 24);
  EXPECT_EQ(r.mechanisms[1].ip6_prefix, 64);
  EXPECT_EQ(r.mechanisms[2].qualifier, SpfQualifier::kSoftFail);
  EXPECT_EQ(r.mechanisms[3].qualifier, SpfQualifier::kNeutral);
  EXPECT_EQ(r.mechanisms[3].network->text(), "192.0.2.0");
  EXPECT_EQ(r.mechanisms[4].ip6_prefix, 32);
  EXPECT_EQ(r.mechanisms[5].domain_spec, "_spf.example.net");
  EXPECT_EQ(r.mechanisms[6].domain_spec, "%{i}.bl.example.org");
  EXPECT_EQ(r.mechanisms[7].kind, SpfMechanismKind::kAll);
  EXPECT_EQ(r.redirect, "example.org");
  EXPECT_EQ(r.exp, "why.%{d}");
  ASSERT_EQ(r.unknown.size(), 1u);
  EXPECT_EQ(r.unknown[0].name, "x-note");
}

// RFC 7208 4.6: any error anywhere makes the whole record a permerror, and
// the error names its term and column.
TEST(SpfRecord, RefusesErrorsWithTheirColumn) {
  SpfSyntaxError e = refused("v=spf1 a -al");
  EXPECT_EQ(e.term, "-al");
  EXPECT_EQ(e.column, 10u);
  EXPECT_EQ(refused("v=spf1 ip4:192.0.2.0/33").term, "ip4:192.0.2.0/33");
  EXPECT_EQ(refused("v=spf1 ip4:192.0.2.0/024").term, "ip4:192.0.2.0/024") << "no leading zeros";
  EXPECT_EQ(refused("v=spf1 ip6:192.0.2.1").term, "ip6:192.0.2.1");
  EXPECT_EQ(refused("v=spf1 a//129").term, "a//129");
  EXPECT_EQ(refused("v=spf1 include").term, "include");
  EXPECT_EQ(refused("v=spf1 all:x").term, "all:x");
  EXPECT_EQ(refused("v=spf1 redirect=a.example redirect=b.example").term, "redirect=b.example");
  EXPECT_EQ(refused("v=spf1 exists:%{x}.example.com").term, "exists:%{x}.example.com");
  EXPECT_EQ(refused("v=spf1 a:\x80.example.com").term, "a:\x80.example.com") << "7-bit only (3.1)";
  EXPECT_EQ(refused("v=spf1 a\tmx").term, "a\tmx") << "terms split at spaces only (4.6.1)";
}

// RFC 7208 5.3: '/' may sit inside a domain-spec; prefixes are what end it.
TEST(SpfRecord, FindsPrefixLengthsAtTheEnd) {
  SpfRecord r = parsed("v=spf1 a:foo:bar/baz.example.com a/26 mx//48 a:x.example.com/0");
  ASSERT_EQ(r.mechanisms.size(), 4u);
  EXPECT_EQ(r.mechanisms[0].domain_spec, "foo:bar/baz.example.com");
  EXPECT_EQ(r.mechanisms[1].domain_spec, "");
  EXPECT_EQ(r.mechanisms[1].ip4_prefix, 26);
  EXPECT_EQ(r.mechanisms[2].ip4_prefix, 32);
  EXPECT_EQ(r.mechanisms[2].ip6_prefix, 48);
  EXPECT_EQ(r.mechanisms[3].ip4_prefix, 0);
}

}  // namespace
}  // namespace smtplab::auth
