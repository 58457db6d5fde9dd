// DKIM signing (RFC 6376 5): the DKIM-Signature field for a message, made
// with a private key; the caller puts it on top of the message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agents/auth/dkim_canonicalization.hpp"
#include "agents/auth/dkim_crypto.hpp"

namespace smtplab::auth {

struct DkimSignRequest {
  std::string domain;    // d=
  std::string selector;  // s=
  CanonicalizationPair canonicalization{Canonicalization::kRelaxed, Canonicalization::kRelaxed};
  // h=: the fields to sign, by name, of those the message has. Empty: the
  // fields RFC 6376 5.4.1 recommends that the message carries.
  std::vector<std::string> fields;
  std::optional<std::int64_t> timestamp;   // t=
  std::optional<std::int64_t> expiration;  // x=
  bool body_length = false;                // l= of the whole body (RFC 6376 8.2 warns why not)
  std::string identity;                    // i=, none when empty
};

struct DkimSignError {
  std::string problem;
};

// The whole field, "DKIM-Signature: ...", folded, ending in CRLF.
std::variant<std::string, DkimSignError> dkim_sign(std::string_view message, const DkimSignRequest& request,
                                                   const Pkey& key);

}  // namespace smtplab::auth
