#include "agents/auth/dkim_verify.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/auth/dkim_crypto.hpp"
#include "agents/auth/mail_message.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {

std::string_view dkim_result_name(DkimResult result) {
  switch (result) {
    case DkimResult::kNone: return "none";
    case DkimResult::kPass: return "pass";
    case DkimResult::kFail: return "fail";
    case DkimResult::kPolicy: return "policy";
    case DkimResult::kNeutral: return "neutral";
    case DkimResult::kTempError: return "temperror";
    case DkimResult::kPermError: return "permerror";
  }
  return "?";
}

std::string_view dkim_reason_name(DkimReason reason) {
  switch (reason) {
    case DkimReason::kVerified: return "verified";
    case DkimReason::kSyntaxError: return "syntax_error";
    case DkimReason::kBodyHashMismatch: return "body_hash_mismatch";
    case DkimReason::kBodyTooShort: return "body_too_short";
    case DkimReason::kSignatureInvalid: return "signature_invalid";
    case DkimReason::kExpired: return "expired";
    case DkimReason::kKeyNotFound: return "key_not_found";
    case DkimReason::kKeyRevoked: return "key_revoked";
    case DkimReason::kKeySyntaxError: return "key_syntax_error";
    case DkimReason::kKeyMismatch: return "key_mismatch";
    case DkimReason::kKeyTooSmall: return "key_too_small";
    case DkimReason::kIdentityNotStrict: return "identity_not_strict";
    case DkimReason::kDnsError: return "dns_error";
  }
  return "?";
}

namespace {

void fail(DkimSignatureVerdict& v, DkimResult result, DkimReason reason, std::string problem) {
  v.result = result;
  v.reason = reason;
  v.problem = std::move(problem);
}

}  // namespace

DkimVerification::DkimVerification(std::string_view message_text, DkimSettings settings)
    : settings_(settings) {
  const MailMessage message = parse_mail_message(message_text);
  std::map<std::pair<Canonicalization, std::uint64_t>, std::string> body_hashes;  // one hash per form and length
  for (const HeaderField& field : message.fields) {
    if (!absl::EqualsIgnoreCase(av(field.name), "DKIM-Signature")) continue;
    if (pending_.size() == settings_.max_signatures) break;
    Pending p;
    std::variant<DkimSignature, DkimSyntaxError> parsed = parse_dkim_signature(field.value);
    if (const auto* e = std::get_if<DkimSyntaxError>(&parsed)) {
      fail(p.verdict, DkimResult::kPermError, DkimReason::kSyntaxError, e->problem);
      pending_.push_back(std::move(p));
      continue;
    }
    DkimSignature s = std::move(std::get<DkimSignature>(parsed));
    DkimSignatureVerdict& v = p.verdict;
    v.domain = s.domain;
    v.selector = s.selector;
    v.identity = s.identity;
    v.algorithm = std::string(dkim_algorithm_name(s.algorithm));
    v.canonicalization = canonicalization_text(s.canonicalization);
    v.signed_fields = s.signed_fields;
    v.body_hash_signed = s.bh_text;
    v.body_length = s.body_length;
    v.signature_prefix = s.b_text.substr(0, 8);

    std::string body = canonical_body(message.body, s.canonicalization.body);
    v.canonical_body_octets = body.size();
    if (s.body_length && *s.body_length > body.size()) {
      fail(v, DkimResult::kFail, DkimReason::kBodyTooShort,
           absl::StrCat("l=", *s.body_length, " but the canonical body has ", body.size(), " octets (RFC 6376 3.5)"));
    } else {
      if (s.body_length) body.resize(*s.body_length);
      v.body_hash_computed = absl::Base64Escape(av(sha256(body)));
      if (sha256(body) != s.body_hash) {
        fail(v, DkimResult::kFail, DkimReason::kBodyHashMismatch,
             absl::StrCat("the body hash is ", v.body_hash_computed, ", bh= says ", s.bh_text,
                          ": the body changed after signing (RFC 6376 3.7)"));
      } else if (s.expiration && settings_.now > *s.expiration) {
        fail(v, DkimResult::kFail, DkimReason::kExpired,
             absl::StrCat("x=", *s.expiration, " is past (RFC 6376 3.5)"));
      } else {
        // What the signature covers: the signed fields, then this field
        // without its b= value and without its final CRLF (3.7).
        p.header_data = canonical_signed_fields(message, s.signed_fields, s.canonicalization.header);
        std::string self = canonical_header(without_signature_value(field.raw), s.canonicalization.header);
        if (self.ends_with("\r\n")) self.resize(self.size() - 2);
        p.header_data += self;
        p.key_name = normalized_dns_name(absl::StrCat(s.selector, "._domainkey.", s.domain));
        p.signature = std::move(s);
        v.reason = DkimReason::kVerified;  // until the key says otherwise
      }
    }
    pending_.push_back(std::move(p));
  }
}

std::variant<DnsQuestion, std::vector<DkimSignatureVerdict>> DkimVerification::next() {
  for (const Pending& p : pending_) {
    if (p.signature && !keys_.contains(p.key_name)) return DnsQuestion{p.key_name, DnsType::kTxt};
  }
  std::vector<DkimSignatureVerdict> verdicts;
  for (Pending& p : pending_) {
    if (p.signature) finish(p, keys_.at(p.key_name));
    verdicts.push_back(p.verdict);
  }
  return verdicts;
}

void DkimVerification::answer(const DnsQuestion& question, DnsResult result) {
  keys_.emplace(question.name, std::move(result));
}

void DkimVerification::finish(Pending& p, const DnsResult& answer) const {
  DkimSignatureVerdict& v = p.verdict;
  const DkimSignature& s = *p.signature;
  if (is_error(answer.outcome)) {
    return fail(v, DkimResult::kTempError, DkimReason::kDnsError,
                absl::StrCat("the key lookup of ", p.key_name, " ended in ", av(dns_outcome_name(answer.outcome)),
                             " (RFC 6376 6.1.2)"));
  }
  if (answer.outcome != DnsOutcome::kAnswer) {
    return fail(v, DkimResult::kPermError, DkimReason::kKeyNotFound,
                absl::StrCat("no key record at ", p.key_name, " (RFC 6376 6.1.2)"));
  }
  // More than one record at the name: RFC 6376 3.6.2.2 lets a verifier take
  // the first that parses.
  std::optional<DkimKey> key;
  std::string key_problem;
  for (const std::string& record : answer.records) {
    std::variant<DkimKey, DkimSyntaxError> parsed = parse_dkim_key(record);
    if (auto* k = std::get_if<DkimKey>(&parsed)) {
      key = std::move(*k);
      break;
    }
    key_problem = std::get<DkimSyntaxError>(parsed).problem;
  }
  if (!key) return fail(v, DkimResult::kPermError, DkimReason::kKeySyntaxError, key_problem);
  v.testing = key->testing;
  if (key->public_key.empty()) {
    return fail(v, DkimResult::kPermError, DkimReason::kKeyRevoked,
                absl::StrCat("the key at ", p.key_name, " is revoked: p= is empty (RFC 6376 3.6.1)"));
  }
  const DkimKeyType wanted = s.algorithm == DkimAlgorithm::kEd25519Sha256 ? DkimKeyType::kEd25519 : DkimKeyType::kRsa;
  if (key->type != wanted) {
    return fail(v, DkimResult::kPermError, DkimReason::kKeyMismatch,
                absl::StrCat("the key at ", p.key_name, " is not for ", v.algorithm, " (RFC 6376 3.6.1)"));
  }
  if (!key->hashes.empty() && std::find(key->hashes.begin(), key->hashes.end(), "sha256") == key->hashes.end()) {
    return fail(v, DkimResult::kPermError, DkimReason::kKeyMismatch,
                absl::StrCat("the key's h= does not allow sha256 (RFC 6376 3.6.1)"));
  }
  if (key->strict_identity && !absl::EndsWithIgnoreCase(av(s.identity), absl::StrCat("@", s.domain))) {
    return fail(v, DkimResult::kPermError, DkimReason::kIdentityNotStrict,
                absl::StrCat("the key's t=s requires i= in ", s.domain, " itself (RFC 6376 3.6.1)"));
  }
  switch (verify_signature(key->type, key->public_key, p.header_data, s.signature)) {
    case SignatureCheck::kValid:
      v.result = DkimResult::kPass;
      v.reason = DkimReason::kVerified;
      v.problem.clear();
      return;
    case SignatureCheck::kInvalid:
      return fail(v, DkimResult::kFail, DkimReason::kSignatureInvalid,
                  "the signature does not verify: a signed header field changed, or another key signed (RFC 6376 6.1.3)");
    case SignatureCheck::kBadKey:
      return fail(v, DkimResult::kPermError, DkimReason::kKeySyntaxError,
                  absl::StrCat("p= at ", p.key_name, " is not a usable ", v.algorithm, " key (RFC 6376 3.6.1)"));
    case SignatureCheck::kKeyTooSmall:
      return fail(v, DkimResult::kPermError, DkimReason::kKeyTooSmall,
                  "the RSA key has fewer than 1024 bits (RFC 8301 3.2)");
  }
}

}  // namespace smtplab::auth
