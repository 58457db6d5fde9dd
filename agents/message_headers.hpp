// Reading and adding header fields of an RFC 5322 message (CRLF line ends).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smtplab::agents {

// The unfolded value of the first header field named `name` (case-insensitive).
std::optional<std::string> find_header(std::string_view message, std::string_view name);
// The header section only (up to, not including, the empty line).
std::string_view header_section(std::string_view message);
// The Message-ID without angle brackets, or empty.
std::string message_id_of(std::string_view message);

}  // namespace smtplab::agents
