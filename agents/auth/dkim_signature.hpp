// A DKIM-Signature header field (RFC 6376 3.5) parsed into what a verifier
// uses, and the key record a selector publishes (3.6.1). Algorithms are
// rsa-sha256 and ed25519-sha256 (RFC 8463); rsa-sha1 is refused, as RFC 8301
// requires of verifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agents/auth/dkim_canonicalization.hpp"

namespace smtplab::auth {

enum class DkimAlgorithm : std::uint8_t { kRsaSha256, kEd25519Sha256 };
std::string_view dkim_algorithm_name(DkimAlgorithm a);  // "rsa-sha256", "ed25519-sha256"
std::optional<DkimAlgorithm> parse_dkim_algorithm(std::string_view name);

struct DkimSignature {
  DkimAlgorithm algorithm = DkimAlgorithm::kRsaSha256;
  std::string signature;  // b=, decoded
  std::string body_hash;  // bh=, decoded
  std::string b_text;     // b= as written, base64
  std::string bh_text;    // bh= as written, base64 without white space
  CanonicalizationPair canonicalization;
  std::string domain;    // d=, lower case
  std::string selector;  // s=
  std::vector<std::string> signed_fields;  // h=, names as written
  std::string identity;  // i=, "@" + d= when absent
  std::optional<std::uint64_t> body_length;  // l=
  std::optional<std::int64_t> timestamp;     // t=
  std::optional<std::int64_t> expiration;    // x=
};

struct DkimSyntaxError {
  std::string problem;  // with its RFC section
};

// The field's value (after "DKIM-Signature:"). Every check of 6.1.1 that
// needs nothing but the field itself is made here.
std::variant<DkimSignature, DkimSyntaxError> parse_dkim_signature(std::string_view value);

enum class DkimKeyType : std::uint8_t { kRsa, kEd25519 };

struct DkimKey {
  DkimKeyType type = DkimKeyType::kRsa;
  std::string public_key;  // p=, decoded; empty means revoked (3.6.1)
  std::vector<std::string> hashes;  // h=, empty: any
  bool testing = false;        // t=y
  bool strict_identity = false;  // t=s: i= must be d= itself
};

// A selector's TXT record (3.6.1).
std::variant<DkimKey, DkimSyntaxError> parse_dkim_key(std::string_view record);

// The field with the value of its b= tag taken out, everything else as it
// was: what the signature covers of itself (3.7).
std::string without_signature_value(std::string_view raw_field);

}  // namespace smtplab::auth
