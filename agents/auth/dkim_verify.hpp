// DKIM verification (RFC 6376 6), sans-I/O like the SPF check: a
// DkimVerification asks for each signature's key record (a TXT question) and
// is given the answers; once it has them all it gives one verdict per
// DKIM-Signature field, with what a student needs to see why one failed: the
// body hash computed against bh=, the fields signed, the key's problem.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agents/auth/dkim_signature.hpp"
#include "agents/auth/dns_lookup.hpp"

namespace smtplab::auth {

// RFC 8601 2.7.1's DKIM results.
enum class DkimResult { kNone, kPass, kFail, kPolicy, kNeutral, kTempError, kPermError };
std::string_view dkim_result_name(DkimResult result);  // "none", "pass", ...

enum class DkimReason {
  kVerified,
  kSyntaxError,        // the DKIM-Signature field does not parse (3.5, 6.1.1)
  kBodyHashMismatch,   // the body changed since it was signed (3.7)
  kBodyTooShort,       // l= counts more octets than the body has (3.5)
  kSignatureInvalid,   // the header hash does not verify with the key (6.1.3)
  kExpired,            // x= is in the past (3.5)
  kKeyNotFound,        // no TXT record at the selector (6.1.2)
  kKeyRevoked,         // p= is empty (3.6.1)
  kKeySyntaxError,     // the key record does not parse (3.6.1)
  kKeyMismatch,        // k= is not the algorithm's key type, or h= excludes sha256 (3.6.1)
  kKeyTooSmall,        // RSA under 1024 bits (RFC 8301 3.2)
  kIdentityNotStrict,  // the key's t=s and i= in a subdomain (3.6.1)
  kDnsError,           // the key lookup failed (6.1.2)
};
std::string_view dkim_reason_name(DkimReason reason);  // "verified", "body_hash_mismatch", ...

struct DkimSignatureVerdict {
  DkimResult result = DkimResult::kPermError;
  DkimReason reason = DkimReason::kSyntaxError;
  std::string problem;  // what failed, with its RFC section; empty on pass
  std::string domain, selector, identity;  // d=, s=, i=
  std::string algorithm;                   // a= as written
  std::string canonicalization;            // "relaxed/relaxed"
  std::vector<std::string> signed_fields;  // h=
  std::string body_hash_signed;    // bh=, base64
  std::string body_hash_computed;  // over the canonical body, base64
  std::uint64_t canonical_body_octets = 0;
  std::optional<std::uint64_t> body_length;  // l=
  std::string signature_prefix;    // the first 8 characters of b=, Authentication-Results' header.b
  bool testing = false;            // the key's t=y: verifiers treat it as unsigned (3.6.1)
};

struct DkimSettings {
  std::int64_t now = 0;          // seconds since the epoch, for x=
  std::size_t max_signatures = 8;  // fields verified per message; the rest are ignored (6.1)
};

class DkimVerification {
 public:
  // `message` must outlive the verification.
  explicit DkimVerification(std::string_view message, DkimSettings settings = {});

  std::variant<DnsQuestion, std::vector<DkimSignatureVerdict>> next();
  void answer(const DnsQuestion& question, DnsResult result);

 private:
  struct Pending {
    DkimSignatureVerdict verdict;        // filled as far as the field alone allows
    std::optional<DkimSignature> signature;
    std::string header_data;             // what the signature covers, canonical
    std::string key_name;                // selector._domainkey.domain
  };
  void finish(Pending& pending, const DnsResult& key) const;

  DkimSettings settings_;
  std::vector<Pending> pending_;
  std::map<std::string, DnsResult> keys_;
};

template <typename Resolve>
std::vector<DkimSignatureVerdict> run_dkim_verification(DkimVerification& v, Resolve&& resolve) {
  for (;;) {
    auto step = v.next();
    if (auto* done = std::get_if<std::vector<DkimSignatureVerdict>>(&step)) return std::move(*done);
    const DnsQuestion& q = std::get<DnsQuestion>(step);
    v.answer(q, resolve(q));
  }
}

}  // namespace smtplab::auth
