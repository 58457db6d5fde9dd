#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "agents/auth/dkim_canonicalization.hpp"
#include "agents/auth/dkim_crypto.hpp"
#include "agents/auth/dkim_sign.hpp"
#include "agents/auth/dkim_tags.hpp"
#include "agents/auth/dkim_verify.hpp"
#include "agents/auth/dns_zone.hpp"
#include "gtest/gtest.h"

namespace smtplab::auth {
namespace {

// RFC 6376 3.4.5's example, both forms.
TEST(DkimCanonicalization, GivesTheRfcExample) {
  EXPECT_EQ(canonical_header("A: X\r\n", Canonicalization::kRelaxed), "a:X\r\n");
  EXPECT_EQ(canonical_header("B : Y\t\r\n\tZ  \r\n", Canonicalization::kRelaxed), "b:Y Z\r\n");
  EXPECT_EQ(canonical_header("B : Y\t\r\n\tZ  \r\n", Canonicalization::kSimple), "B : Y\t\r\n\tZ  \r\n");
  EXPECT_EQ(canonical_body(" C \r\nD \t E\r\n\r\n\r\n", Canonicalization::kRelaxed), " C\r\nD E\r\n");
  EXPECT_EQ(canonical_body(" C \r\nD \t E\r\n\r\n\r\n", Canonicalization::kSimple), " C \r\nD \t E\r\n");
}

// RFC 6376 3.4.3 and 3.4.4: an empty body is one CRLF (simple) or nothing
// (relaxed); a last line without CRLF gets one.
TEST(DkimCanonicalization, HandlesEmptyAndUnterminatedBodies) {
  EXPECT_EQ(canonical_body("", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(canonical_body("\r\n\r\n", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(canonical_body("", Canonicalization::kRelaxed), "");
  EXPECT_EQ(canonical_body(" \r\n", Canonicalization::kRelaxed), "");
  EXPECT_EQ(canonical_body("end", Canonicalization::kRelaxed), "end\r\n");
  EXPECT_EQ(canonical_body("end", Canonicalization::kSimple), "end\r\n");
}

// RFC 6376 3.2: tag lists.
TEST(DkimTags, ParsesTagListsAndRefusesDuplicates) {
  auto parsed = parse_tag_list(" v = 1 ;a=rsa-sha256;\r\n\tb=ab cd;");
  ASSERT_TRUE(std::holds_alternative<TagList>(parsed));
  const TagList& tags = std::get<TagList>(parsed);
  EXPECT_EQ(tags.find("v"), "1");
  EXPECT_EQ(tags.find("b"), "ab cd");
  EXPECT_EQ(tags.find("x"), std::nullopt);
  EXPECT_TRUE(std::holds_alternative<TagListError>(parse_tag_list("a=1; a=2"))) << "a tag twice";
  EXPECT_TRUE(std::holds_alternative<TagListError>(parse_tag_list("a=1; novalue")));
  EXPECT_TRUE(std::holds_alternative<TagListError>(parse_tag_list("1a=x")));
}

// RFC 6376 3.7: the signature covers its own field with b= emptied.
TEST(DkimSignature, EmptiesOnlyTheBValue) {
  EXPECT_EQ(without_signature_value("DKIM-Signature: a=1; b=abc\r\n def; bh=xyz\r\n"),
            "DKIM-Signature: a=1; b=; bh=xyz\r\n");
  EXPECT_EQ(without_signature_value("DKIM-Signature: a=1; bh=xyz; b=abc\r\n"), "DKIM-Signature: a=1; bh=xyz; b=\r\n");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// RFC 8463 Appendix A's message, signed with ed25519-sha256 (selector
// brisbane) and rsa-sha256 (selector test), as dkimpy's tests ship it.
constexpr char kRfc8463Message[] = "/usr/lib/python3/dist-packages/dkim/tests/data/rfc6376.signed.msg";

DnsZone rfc8463_zone() {
  DnsZone zone;
  zone.add("brisbane._domainkey.football.example.com", DnsType::kTxt,
           "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  zone.add("test._domainkey.football.example.com", DnsType::kTxt,
           "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
           "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+"
           "2kryOTIKT+l/K4w3QIDAQAB");
  return zone;
}

std::vector<DkimSignatureVerdict> verify(const std::string& message, const DnsZone& zone, std::int64_t now = 0) {
  DkimVerification v(message, {.now = now});
  return run_dkim_verification(v, [&](const DnsQuestion& q) { return zone.resolve(q); });
}

std::string rfc8463_message() {
  const std::string text = read_file(kRfc8463Message);
  EXPECT_FALSE(text.empty()) << kRfc8463Message << " (python3-spf's sibling python3-dkim, scripts/setup)";
  return absl::StrReplaceAll(text, {{"\n", "\r\n"}});
}

TEST(DkimVerify, VerifiesTheRfc8463Example) {
  const std::string message = rfc8463_message();
  std::vector<DkimSignatureVerdict> verdicts = verify(message, rfc8463_zone());
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(verdicts[1].algorithm, "rsa-sha256");
  for (const DkimSignatureVerdict& v : verdicts) {
    EXPECT_EQ(v.result, DkimResult::kPass) << v.selector << ": " << v.problem;
    EXPECT_EQ(v.body_hash_computed, v.body_hash_signed);
    EXPECT_EQ(v.domain, "football.example.com");
  }
  EXPECT_EQ(verdicts[0].signed_fields.size(), 8u) << "h= with From, Subject and Date signed twice";
}

// RFC 6376 3.7 and 6.1.3: a footer added in transit breaks the body hash; a
// changed Subject breaks the signature itself.
TEST(DkimVerify, SaysWhatChanged) {
  const std::string message = rfc8463_message();
  std::vector<DkimSignatureVerdict> footer = verify(message + "-- \r\nSent through a list\r\n", rfc8463_zone());
  for (const DkimSignatureVerdict& v : footer) {
    EXPECT_EQ(v.result, DkimResult::kFail);
    EXPECT_EQ(v.reason, DkimReason::kBodyHashMismatch);
    EXPECT_NE(v.body_hash_computed, v.body_hash_signed);
  }
  const std::string subject = absl::StrReplaceAll(message, {{"Subject: Is dinner", "Subject: [list] Is dinner"}});
  ASSERT_NE(subject, message);
  for (const DkimSignatureVerdict& v : verify(subject, rfc8463_zone())) {
    EXPECT_EQ(v.result, DkimResult::kFail);
    EXPECT_EQ(v.reason, DkimReason::kSignatureInvalid);
    EXPECT_EQ(v.body_hash_computed, v.body_hash_signed) << "the body is as signed";
  }
}

constexpr char kMessage[] =
    "From: Alice <alice@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject:  Lunch\r\n"
    "Date: Fri, 04 Dec 2026 12:00:00 +0000\r\n"
    "Message-ID: <lunch@example.com>\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n"
    "\r\n";

std::string signed_message(const Pkey& key, DkimSignRequest request) {
  auto field = dkim_sign(kMessage, request, key);
  if (auto* e = std::get_if<DkimSignError>(&field)) {
    ADD_FAILURE() << e->problem;
    return kMessage;
  }
  return std::get<std::string>(field) + kMessage;
}

// RFC 6376 5 and 6, RFC 8463: what smtplab signs, smtplab verifies, for both
// algorithms and all four canonicalizations.
TEST(DkimSign, SignsWhatItVerifies) {
  for (DkimKeyType type : {DkimKeyType::kRsa, DkimKeyType::kEd25519}) {
    Pkey key = generate_key(type);
    ASSERT_TRUE(key);
    DnsZone zone;
    zone.add("sel._domainkey.example.com", DnsType::kTxt,
             absl::StrCat("v=DKIM1; k=", type == DkimKeyType::kRsa ? "rsa" : "ed25519", "; p=",
                          public_key_record_value(key)));
    for (Canonicalization h : {Canonicalization::kSimple, Canonicalization::kRelaxed}) {
      for (Canonicalization b : {Canonicalization::kSimple, Canonicalization::kRelaxed}) {
        const std::string message =
            signed_message(key, {.domain = "example.com", .selector = "sel", .canonicalization = {h, b}});
        std::vector<DkimSignatureVerdict> verdicts = verify(message, zone);
        ASSERT_EQ(verdicts.size(), 1u);
        EXPECT_EQ(verdicts[0].result, DkimResult::kPass) << verdicts[0].canonicalization << ": " << verdicts[0].problem;
        EXPECT_EQ(verdicts[0].signed_fields,
                  (std::vector<std::string>{"from", "subject", "date", "to", "message-id"}));
        const std::string field = message.substr(0, message.find("From: Alice"));
        for (absl::string_view line : absl::StrSplit(field, "\r\n")) {
          EXPECT_LE(line.size(), 78u) << "folded (RFC 5322 2.1.1): " << line;
        }
      }
    }
  }
}

// RFC 6376 3.4.2 vs 3.4.1: relaxed survives a rewrapped header, simple does not.
TEST(DkimSign, RelaxedSurvivesWhitespaceChanges) {
  Pkey key = generate_key(DkimKeyType::kEd25519);
  DnsZone zone;
  zone.add("sel._domainkey.example.com", DnsType::kTxt, absl::StrCat("v=DKIM1; k=ed25519; p=", public_key_record_value(key)));
  for (Canonicalization c : {Canonicalization::kSimple, Canonicalization::kRelaxed}) {
    const std::string message = signed_message(key, {.domain = "example.com", .selector = "sel", .canonicalization = {c, c}});
    const std::string rewrapped = absl::StrReplaceAll(message, {{"Subject:  Lunch", "subject: Lunch"},
                                                                {"Shall we meet", "Shall  we meet"}});
    DkimSignatureVerdict v = verify(rewrapped, zone).at(0);
    if (c == Canonicalization::kRelaxed) {
      EXPECT_EQ(v.result, DkimResult::kPass) << v.problem;
    } else {
      EXPECT_EQ(v.result, DkimResult::kFail);
      EXPECT_EQ(v.reason, DkimReason::kBodyHashMismatch);
    }
  }
}

// RFC 6376 3.6.1, 6.1.2 and 3.5: what the key and the tags can say.
TEST(DkimVerify, ReportsKeyAndTagProblems) {
  Pkey key = generate_key(DkimKeyType::kEd25519);
  const std::string p = public_key_record_value(key);
  const std::string message =
      signed_message(key, {.domain = "example.com", .selector = "sel", .timestamp = 1000, .expiration = 2000});
  DnsZone none;
  EXPECT_EQ(verify(message, none).at(0).reason, DkimReason::kKeyNotFound);
  DnsZone revoked;
  revoked.add("sel._domainkey.example.com", DnsType::kTxt, "v=DKIM1; k=ed25519; p=");
  EXPECT_EQ(verify(message, revoked).at(0).reason, DkimReason::kKeyRevoked);
  DnsZone wrong_type;
  wrong_type.add("sel._domainkey.example.com", DnsType::kTxt, absl::StrCat("v=DKIM1; k=rsa; p=", p));
  EXPECT_EQ(verify(message, wrong_type).at(0).reason, DkimReason::kKeyMismatch);
  DnsZone down;
  down.fail("sel._domainkey.example.com", DnsOutcome::kTimeout);
  EXPECT_EQ(verify(message, down).at(0).result, DkimResult::kTempError);
  DnsZone good;
  good.add("sel._domainkey.example.com", DnsType::kTxt, absl::StrCat("v=DKIM1; k=ed25519; p=", p));
  EXPECT_EQ(verify(message, good, 1500).at(0).result, DkimResult::kPass);
  DkimSignatureVerdict expired = verify(message, good, 2001).at(0);
  EXPECT_EQ(expired.result, DkimResult::kFail);
  EXPECT_EQ(expired.reason, DkimReason::kExpired);
  DkimSignatureVerdict garbage = verify("DKIM-Signature: v=1; a=rsa-sha256; b=!!!\r\n" + std::string(kMessage), good).at(0);
  EXPECT_EQ(garbage.result, DkimResult::kPermError);
  EXPECT_EQ(garbage.reason, DkimReason::kSyntaxError);
  EXPECT_TRUE(verify(kMessage, good).empty()) << "no signature: no verdicts (the result is none)";
}

// RFC 6376 8.2: with l=, text appended after signing still verifies: why a
// signer should not use it.
TEST(DkimVerify, BodyLengthLetsAppendedTextThrough) {
  Pkey key = generate_key(DkimKeyType::kEd25519);
  DnsZone zone;
  zone.add("sel._domainkey.example.com", DnsType::kTxt, absl::StrCat("v=DKIM1; k=ed25519; p=", public_key_record_value(key)));
  const std::string message =
      signed_message(key, {.domain = "example.com", .selector = "sel", .body_length = true});
  DkimSignatureVerdict v = verify(message + "Click here: http://phish.example/\r\n", zone).at(0);
  EXPECT_EQ(v.result, DkimResult::kPass) << v.problem;
  ASSERT_TRUE(v.body_length);
  EXPECT_LT(*v.body_length, v.canonical_body_octets);
}

}  // namespace
}  // namespace smtplab::auth
