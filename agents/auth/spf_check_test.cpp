#include "agents/auth/spf_check.hpp"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "agents/auth/dns_zone.hpp"
#include "agents/auth/received_spf.hpp"
#include "gtest/gtest.h"

namespace smtplab::auth {
namespace {

// Runs a check against `zone`, keeping every question it asked.
struct CheckRun {
  SpfVerdict verdict;
  std::vector<std::string> questions;  // "TXT example.com"
};

CheckRun check(const DnsZone& zone, std::string ip, std::string mail_from, std::string helo = "mx.example.org",
          SpfSettings settings = {}) {
  SpfRequest request{.ip = *IpAddress::parse(ip), .mail_from = std::move(mail_from), .helo = std::move(helo),
                     .receiver = "mx.receiver.example"};
  SpfCheck spf(request, settings);
  CheckRun run;
  run.verdict = run_spf_check(spf, [&](const DnsQuestion& q) {
    run.questions.push_back(absl::StrCat(std::string(dns_type_name(q.type)), " ", q.name));
    return zone.resolve(q);
  });
  return run;
}

void spf(DnsZone& zone, std::string_view name, std::string record) { zone.add(name, DnsType::kTxt, std::move(record)); }

// RFC 7208 4.4 and 5.3: the check asks for the TXT record, then for what its
// mechanisms need, one question at a time, A for an IPv4 client.
TEST(SpfCheck, AsksItsQuestionsOneAtATime) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 a -all");
  zone.add("example.com", DnsType::kA, "192.0.2.10");
  CheckRun run = check(zone, "192.0.2.10", "alice@example.com");
  EXPECT_EQ(run.verdict.result, SpfResult::kPass);
  EXPECT_EQ(run.verdict.reason, SpfReason::kMatched);
  EXPECT_EQ(run.verdict.mechanism, "a");
  EXPECT_EQ(run.questions, (std::vector<std::string>{"TXT example.com", "A example.com"}));
  ASSERT_EQ(run.verdict.lookups.size(), 2u);
  EXPECT_EQ(run.verdict.lookups[1].result.records, (std::vector<std::string>{"192.0.2.10"}));
  EXPECT_EQ(run.verdict.dns_lookups, 1) << "the TXT lookup of the record itself does not count (4.6.4)";

  zone.add("example.com", DnsType::kAaaa, "2001:db8::10");
  CheckRun v6 = check(zone, "2001:db8::10", "alice@example.com");
  EXPECT_EQ(v6.verdict.result, SpfResult::kPass);
  EXPECT_EQ(v6.questions.back(), "AAAA example.com") << "an IPv6 client's addresses are AAAA (5)";
}

// RFC 7208 4.6.2 and 4.7: the first mechanism that matches decides with its
// qualifier; none matching is neutral.
TEST(SpfCheck, TheFirstMatchDecidesAndNothingIsNeutral) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 ip4:192.0.2.0/24 ~ip4:198.51.100.0/24 -ip4:203.0.113.0/24");
  EXPECT_EQ(check(zone, "192.0.2.7", "a@example.com").verdict.result, SpfResult::kPass);
  EXPECT_EQ(check(zone, "198.51.100.7", "a@example.com").verdict.result, SpfResult::kSoftFail);
  EXPECT_EQ(check(zone, "203.0.113.7", "a@example.com").verdict.result, SpfResult::kFail);
  SpfVerdict nothing = check(zone, "10.1.1.1", "a@example.com").verdict;
  EXPECT_EQ(nothing.result, SpfResult::kNeutral);
  EXPECT_EQ(nothing.reason, SpfReason::kDefault);
  ASSERT_EQ(nothing.steps.size(), 4u);
  EXPECT_FALSE(nothing.steps[1].matched);
  SpfVerdict soft = check(zone, "198.51.100.7", "a@example.com").verdict;
  EXPECT_TRUE(soft.steps[2].matched);
  EXPECT_EQ(soft.steps[2].term, "~ip4:198.51.100.0/24");
}

// RFC 7208 4.6.4: more than 10 terms that query DNS is a permerror; 10 is not.
TEST(SpfCheck, StopsAtTheLookupLimit) {
  for (int chain : {10, 11}) {
    DnsZone zone;
    // example.com includes d1, d1 includes d2, ... each include one lookup.
    spf(zone, "example.com", "v=spf1 include:d1.example.com -all");
    for (int i = 1; i < chain; ++i) {
      spf(zone, absl::StrCat("d", i, ".example.com"), absl::StrCat("v=spf1 include:d", i + 1, ".example.com"));
    }
    spf(zone, absl::StrCat("d", chain, ".example.com"), "v=spf1 +all");
    SpfVerdict v = check(zone, "192.0.2.1", "a@example.com").verdict;
    if (chain == 10) {
      EXPECT_EQ(v.result, SpfResult::kPass) << "ten lookups are allowed";
      EXPECT_EQ(v.dns_lookups, 10);
    } else {
      EXPECT_EQ(v.result, SpfResult::kPermError);
      EXPECT_EQ(v.reason, SpfReason::kTooManyLookups);
      EXPECT_EQ(v.decided_by, "d10.example.com") << "the 11th include was d10's";
    }
  }
}

// RFC 7208 4.6.4: more than two lookups that find nothing is a permerror.
TEST(SpfCheck, StopsAtTheVoidLookupLimit) {
  DnsZone zone;
  spf(zone, "two.example.com", "v=spf1 a:gone1.example.com a:gone2.example.com -all");
  spf(zone, "three.example.com", "v=spf1 a:gone1.example.com a:gone2.example.com a:gone3.example.com -all");
  SpfVerdict two = check(zone, "192.0.2.1", "a@two.example.com").verdict;
  EXPECT_EQ(two.result, SpfResult::kFail);
  EXPECT_EQ(two.void_lookups, 2);
  SpfVerdict three = check(zone, "192.0.2.1", "a@three.example.com").verdict;
  EXPECT_EQ(three.result, SpfResult::kPermError);
  EXPECT_EQ(three.reason, SpfReason::kTooManyVoidLookups);
  EXPECT_EQ(three.mechanism, "a:gone3.example.com");
}

// RFC 7208 5.2's table: an included fail or neutral is no match; an included
// domain without a record is a permerror; its temperror ends the check.
TEST(SpfCheck, IncludeMatchesOnlyOnPass) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 include:fails.example.net ip4:192.0.2.1 -all");
  spf(zone, "fails.example.net", "v=spf1 -all");
  SpfVerdict v = check(zone, "192.0.2.1", "a@example.com").verdict;
  EXPECT_EQ(v.result, SpfResult::kPass) << "the include's -all did not end the outer check";
  EXPECT_EQ(v.mechanism, "ip4:192.0.2.1");

  spf(zone, "none.example.com", "v=spf1 include:norecord.example.net -all");
  zone.add("norecord.example.net", DnsType::kA, "192.0.2.9");
  SpfVerdict none = check(zone, "192.0.2.1", "a@none.example.com").verdict;
  EXPECT_EQ(none.result, SpfResult::kPermError);
  EXPECT_EQ(none.reason, SpfReason::kIncludeNone);

  spf(zone, "slow.example.com", "v=spf1 include:slow.example.net -all");
  zone.fail("slow.example.net", DnsOutcome::kTimeout);
  SpfVerdict slow = check(zone, "192.0.2.1", "a@slow.example.com").verdict;
  EXPECT_EQ(slow.result, SpfResult::kTempError);
  EXPECT_EQ(slow.reason, SpfReason::kDnsError);
}

// RFC 7208 6.1: redirect only when nothing matched; a target without a record
// is a permerror.
TEST(SpfCheck, RedirectsOnlyWhenNothingMatched) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 ip4:192.0.2.1 redirect=_spf.example.com");
  spf(zone, "_spf.example.com", "v=spf1 ip4:198.51.100.0/24 -all");
  CheckRun matched = check(zone, "192.0.2.1", "a@example.com");
  EXPECT_EQ(matched.verdict.result, SpfResult::kPass);
  EXPECT_EQ(matched.questions, std::vector<std::string>{"TXT example.com"}) << "the redirect was never followed";
  SpfVerdict redirected = check(zone, "198.51.100.5", "a@example.com").verdict;
  EXPECT_EQ(redirected.result, SpfResult::kPass);
  EXPECT_EQ(redirected.decided_by, "_spf.example.com");
  EXPECT_EQ(check(zone, "203.0.113.5", "a@example.com").verdict.result, SpfResult::kFail);

  spf(zone, "broken.example.com", "v=spf1 redirect=nothing.example.com");
  SpfVerdict none = check(zone, "192.0.2.1", "a@broken.example.com").verdict;
  EXPECT_EQ(none.result, SpfResult::kPermError);
  EXPECT_EQ(none.reason, SpfReason::kRedirectNone);
}

// RFC 7208 6.2: a fail's explanation comes from the deciding record's exp=,
// never from an included record's; after a redirect, the target's exp only.
TEST(SpfCheck, ExplainsAFailFromTheRightRecord) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 include:inc.example.com -all exp=why.example.com");
  spf(zone, "inc.example.com", "v=spf1 -all exp=inc-why.example.com");
  zone.add("why.example.com", DnsType::kTxt, "%{i} is not one of %{d}'s servers");
  zone.add("inc-why.example.com", DnsType::kTxt, "wrong record");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@example.com").verdict.explanation,
            "192.0.2.1 is not one of example.com's servers");

  spf(zone, "redir.example.com", "v=spf1 redirect=target.example.com exp=why.example.com");
  spf(zone, "target.example.com", "v=spf1 -all exp=target-why.example.com");
  zone.add("target-why.example.com", DnsType::kTxt, "from the target, %{d}");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@redir.example.com").verdict.explanation, "from the target, target.example.com");

  spf(zone, "plain.example.com", "v=spf1 -all");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@plain.example.com").verdict.explanation,
            "plain.example.com does not designate 192.0.2.1 as a permitted sender")
      << "the default explanation, expanded";
}

// RFC 7208 4.3, 4.4 and 4.5: what happens before any mechanism runs.
TEST(SpfCheck, ResultsBeforeAnyMechanism) {
  DnsZone zone;
  spf(zone, "two.example.com", "v=spf1 -all");
  spf(zone, "two.example.com", "v=spf1 +all");
  zone.add("norecord.example.com", DnsType::kTxt, "google-site-verification=abc");
  zone.fail("down.example.com", DnsOutcome::kServFail);
  spf(zone, "typo.example.com", "v=spf1 ip4:192.0.2.300 -all");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@two.example.com").verdict.reason, SpfReason::kMultipleRecords);
  EXPECT_EQ(check(zone, "192.0.2.1", "a@norecord.example.com").verdict.result, SpfResult::kNone);
  EXPECT_EQ(check(zone, "192.0.2.1", "a@missing.example.com").verdict.reason, SpfReason::kNoSuchDomain);
  EXPECT_EQ(check(zone, "192.0.2.1", "a@down.example.com").verdict.result, SpfResult::kTempError);
  EXPECT_EQ(check(zone, "192.0.2.1", "a@localhost").verdict.reason, SpfReason::kInvalidDomain);
  SpfVerdict typo = check(zone, "192.0.2.1", "a@typo.example.com").verdict;
  EXPECT_EQ(typo.result, SpfResult::kPermError);
  EXPECT_EQ(typo.reason, SpfReason::kSyntaxError);
  EXPECT_NE(typo.problem.find("column 8"), std::string::npos) << typo.problem;
}

// RFC 7208 2.4 and 4.3: a null reverse-path is checked as postmaster@HELO.
TEST(SpfCheck, ChecksTheHeloNameForABounce) {
  DnsZone zone;
  spf(zone, "mx.example.org", "v=spf1 ip4:192.0.2.1 -all");
  SpfVerdict v = check(zone, "192.0.2.1", "", "mx.example.org").verdict;
  EXPECT_EQ(v.result, SpfResult::kPass);
  EXPECT_EQ(v.sender, "postmaster@mx.example.org");
}

// RFC 7208 5.4 and 4.6.4: mx looks up every exchange's addresses, and more
// than ten exchanges is a permerror.
TEST(SpfCheck, MxTriesEachExchangeUpToTen) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 mx -all");
  zone.add("example.com", DnsType::kMx, "mx1.example.com");
  zone.add("example.com", DnsType::kMx, "mx2.example.com");
  zone.add("mx1.example.com", DnsType::kA, "192.0.2.1");
  zone.add("mx2.example.com", DnsType::kA, "192.0.2.2");
  EXPECT_EQ(check(zone, "192.0.2.2", "a@example.com").verdict.result, SpfResult::kPass);
  for (int i = 3; i <= 11; ++i) zone.add("example.com", DnsType::kMx, absl::StrCat("mx", i, ".example.com"));
  SpfVerdict eleven = check(zone, "192.0.2.2", "a@example.com").verdict;
  EXPECT_EQ(eleven.result, SpfResult::kPermError);
  EXPECT_EQ(eleven.reason, SpfReason::kTooManyMxRecords);
}

// RFC 7208 5.5: ptr matches only a name whose own addresses include the client.
TEST(SpfCheck, PtrNeedsAValidatedName) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 ptr -all");
  zone.add("1.2.0.192.in-addr.arpa", DnsType::kPtr, "forged.example.com");
  zone.add("forged.example.com", DnsType::kA, "198.51.100.1");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@example.com").verdict.result, SpfResult::kFail)
      << "the PTR name does not point back at the client";
  zone.add("1.2.0.192.in-addr.arpa", DnsType::kPtr, "mail.example.com");
  zone.add("mail.example.com", DnsType::kA, "192.0.2.1");
  EXPECT_EQ(check(zone, "192.0.2.1", "a@example.com").verdict.result, SpfResult::kPass);
}

// RFC 7208 9.1: the header a receiver adds, with the pairs programs read.
TEST(ReceivedSpf, CarriesTheResultAndItsKeys) {
  DnsZone zone;
  spf(zone, "example.com", "v=spf1 ip4:192.0.2.0/24 -all");
  SpfRequest request{.ip = *IpAddress::parse("192.0.2.1"), .mail_from = "alice@example.com",
                     .helo = "mail.example.com", .receiver = "mx.receiver.example"};
  SpfCheck pass_check(request);
  SpfVerdict pass = run_spf_check(pass_check, [&](const DnsQuestion& q) { return zone.resolve(q); });
  const std::string field = received_spf_field(request, pass);
  const std::string unfolded = absl::StrReplaceAll(field, {{"\r\n", ""}});  // RFC 5322 2.2.3
  EXPECT_TRUE(unfolded.starts_with("Received-SPF: pass (mx.receiver.example: domain of alice@example.com "
                                "designates 192.0.2.1 as permitted sender)"))
      << field;
  // An address is not a dot-atom, so it is quoted, as in RFC 7208 9.1's example.
  for (const char* key : {"receiver=mx.receiver.example;", "client-ip=192.0.2.1;", "envelope-from=\"alice@example.com\";",
                          "helo=mail.example.com;", "identity=mailfrom;", "mechanism=\"ip4:192.0.2.0/24\";"}) {
    EXPECT_NE(unfolded.find(key), std::string::npos) << key << " in " << field;
  }
  for (absl::string_view line : absl::StrSplit(field, "\r\n")) {
    EXPECT_LE(line.size(), 78u) << "folded (RFC 5322 2.1.1): " << line;
  }

  spf(zone, "bad.example.com", "v=spf1 ip4:192.0.2.0/99");
  request.mail_from = "bob@bad.example.com";
  SpfCheck bad_check(request);
  SpfVerdict bad = run_spf_check(bad_check, [&](const DnsQuestion& q) { return zone.resolve(q); });
  EXPECT_NE(absl::StrReplaceAll(received_spf_field(request, bad), {{"\r\n", ""}}).find("problem=\"column 8:"),
            std::string::npos)
      << received_spf_field(request, bad);
}

}  // namespace
}  // namespace smtplab::auth
