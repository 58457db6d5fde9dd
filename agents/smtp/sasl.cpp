#include "agents/smtp/sasl.hpp"

#include <vector>

#include "base/absl_string_view.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace smtplab::smtp {

std::string base64_encode(std::string_view raw) { return absl::Base64Escape(av(raw)); }

absl::StatusOr<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("base64 length is not a multiple of 4");
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                          (c >= '0' && c <= '9') || c == '+' || c == '/';
    const bool padding = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alphabet && !padding) return absl::InvalidArgumentError("invalid base64 character");
  }
  std::string out;
  if (!absl::Base64Unescape(av(text), &out)) return absl::InvalidArgumentError("invalid base64");
  return out;
}

std::string encode_plain(std::string_view authorization_id, std::string_view user,
                         std::string_view password) {
  std::string raw = absl::StrCat(av(authorization_id), absl::string_view("\0", 1), av(user),
                                 absl::string_view("\0", 1), av(password));
  return base64_encode(raw);
}

absl::StatusOr<PlainCredentials> decode_plain(std::string_view base64) {
  auto raw = base64_decode(base64);
  if (!raw.ok()) return raw.status();
  std::vector<std::string> parts = absl::StrSplit(*raw, '\0');
  if (parts.size() != 3 || parts[1].empty()) {
    return absl::InvalidArgumentError("PLAIN response must be authzid NUL user NUL password (RFC 4616 2)");
  }
  return PlainCredentials{std::move(parts[0]), std::move(parts[1]), std::move(parts[2])};
}

}  // namespace smtplab::smtp
