// The two SASL mechanisms SMTP submission uses in practice: PLAIN (RFC 4616)
// and LOGIN (draft-murchison-sasl-login), both carried as base64 over SMTP
// AUTH (RFC 4954). Only encoding and decoding: checking passwords is policy.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtplab::smtp {

struct PlainCredentials {
  std::string authorization_id;
  std::string user;
  std::string password;
};

std::string base64_encode(std::string_view raw);
// Strict: only the base64 alphabet with correct padding (RFC 4954 4 asks the
// server to reject anything else with 501).
absl::StatusOr<std::string> base64_decode(std::string_view text);

// "authzid NUL authcid NUL passwd" (RFC 4616 2), base64-encoded.
std::string encode_plain(std::string_view authorization_id, std::string_view user,
                         std::string_view password);
absl::StatusOr<PlainCredentials> decode_plain(std::string_view base64);

// The LOGIN mechanism's fixed prompts, base64 of "Username:" and "Password:".
inline constexpr std::string_view kLoginUserPrompt = "VXNlcm5hbWU6";
inline constexpr std::string_view kLoginPasswordPrompt = "UGFzc3dvcmQ6";

}  // namespace smtplab::smtp
