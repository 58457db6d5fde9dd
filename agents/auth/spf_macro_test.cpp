#include "agents/auth/spf_macro.hpp"

#include "gtest/gtest.h"

namespace smtplab::auth {
namespace {

// The values of RFC 7208 7.4's examples.
MacroValues example_values() {
  MacroValues v;
  v.sender = "strong-bad@email.example.com";
  v.local_part = "strong-bad";
  v.sender_domain = "email.example.com";
  v.domain = "email.example.com";
  v.ip = *IpAddress::parse("192.0.2.3");
  v.helo = "mx.example.org";
  v.receiver = "mx.example.net";
  v.timestamp = 1700000000;
  return v;
}

std::string expand(std::string_view text, const MacroValues& v = example_values()) {
  EXPECT_EQ(macro_string_error(text, MacroScope::kExplanation), std::nullopt) << text;
  return expand_macros(text, v).value_or("<pending>");
}

// Every example of RFC 7208 7.4, IPv4 client.
TEST(SpfMacro, ExpandsTheRfcExamples) {
  EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{l}"), "strong-bad");
  EXPECT_EQ(expand("%{l-}"), "strong.bad");
  EXPECT_EQ(expand("%{lr}"), "strong-bad");
  EXPECT_EQ(expand("%{lr-}"), "bad.strong");
  EXPECT_EQ(expand("%{l1r-}"), "strong");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"), "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"), "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
}

// RFC 7208 7.4, the IPv6 examples (client 2001:db8::cb01).
TEST(SpfMacro, ExpandsIpv6AsNibbles) {
  MacroValues v = example_values();
  v.ip = *IpAddress::parse("2001:db8::cb01");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}", v),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
  EXPECT_EQ(expand("%{c}", v), "2001:db8::cb01");
}

// RFC 7208 7.3: upper-case letters URL-escape; %%, %_ and %- are literals.
TEST(SpfMacro, EscapesUpperCaseLettersAndTheThreeLiterals) {
  MacroValues v = example_values();
  v.local_part = "a b/c";
  EXPECT_EQ(expand("%{L}", v), "a%20b%2Fc");
  EXPECT_EQ(expand("%{l}", v), "a b/c");
  EXPECT_EQ(expand("100%% %_%-"), "100%  %20") << "a space, then %_'s space, then %-";
  EXPECT_EQ(expand("%{r} at %{t}"), "mx.example.net at 1700000000");
}

// RFC 7208 7.1 and 7.2: what is not a macro is a syntax error.
TEST(SpfMacro, RefusesMalformedMacros) {
  EXPECT_NE(macro_string_error("%{x}", MacroScope::kDomainSpec), std::nullopt) << "x is not a letter";
  EXPECT_NE(macro_string_error("%{c}", MacroScope::kDomainSpec), std::nullopt) << "c only in explanations";
  EXPECT_EQ(macro_string_error("%{c}", MacroScope::kExplanation), std::nullopt);
  EXPECT_NE(macro_string_error("%{d0}", MacroScope::kDomainSpec), std::nullopt) << "keep 0 parts";
  EXPECT_NE(macro_string_error("%{d", MacroScope::kDomainSpec), std::nullopt) << "never closed";
  EXPECT_NE(macro_string_error("50%", MacroScope::kDomainSpec), std::nullopt);
  EXPECT_NE(macro_string_error("%a", MacroScope::kDomainSpec), std::nullopt);
  EXPECT_NE(macro_string_error("%{d2x}", MacroScope::kDomainSpec), std::nullopt) << "x is no delimiter";
  EXPECT_NE(macro_string_error("a b", MacroScope::kDomainSpec), std::nullopt) << "space only in explanations";
  EXPECT_EQ(macro_string_error("a b", MacroScope::kExplanation), std::nullopt);
}

// RFC 7208 12, domain-end: a top label or a macro at the end.
TEST(SpfMacro, ChecksTheEndOfADomainSpec) {
  EXPECT_EQ(domain_spec_error("example.com"), std::nullopt);
  EXPECT_EQ(domain_spec_error("example.com."), std::nullopt);
  EXPECT_EQ(domain_spec_error("%{d}"), std::nullopt);
  EXPECT_EQ(domain_spec_error("_spf.%{d2}"), std::nullopt);
  EXPECT_NE(domain_spec_error("example"), std::nullopt) << "one label";
  EXPECT_NE(domain_spec_error("example.123"), std::nullopt) << "an all-digit top label";
  EXPECT_NE(domain_spec_error("example.-com"), std::nullopt);
  EXPECT_NE(domain_spec_error("example.com:8080"), std::nullopt);
  EXPECT_NE(domain_spec_error(""), std::nullopt);
}

// RFC 7208 7.3: over 253 octets, labels go from the left.
TEST(SpfMacro, TruncatesLongDomainsFromTheLeft) {
  std::string long_name;
  for (int i = 0; i < 30; ++i) long_name += "abcdefghi.";
  long_name += "example.com";
  const std::string cut = truncate_domain(long_name);
  EXPECT_LE(cut.size(), 253u);
  EXPECT_TRUE(cut.ends_with("abcdefghi.example.com"));
  EXPECT_TRUE(cut.starts_with("abcdefghi.")) << "whole labels only";
  EXPECT_EQ(truncate_domain("example.com"), "example.com");
}

}  // namespace
}  // namespace smtplab::auth
