// Mailbox and path syntax of RFC 5321 4.1.2, with the SMTPUTF8 extension of
// RFC 6531 3.3 (UTF-8 in local parts and domains) when the caller allows it.
// Errors name the column (1-based, within the text given) and the reason.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtplab::smtp {

// Size limits of RFC 5321 4.5.3.1.1 to 4.5.3.1.3.
inline constexpr std::size_t kMaxLocalPartOctets = 64;
inline constexpr std::size_t kMaxDomainOctets = 255;
inline constexpr std::size_t kMaxPathOctets = 256;

struct Mailbox {
  std::string local_part;  // as written: a dot-string or a quoted string with its quotes
  std::string domain;      // a domain, or an address literal with its brackets
  std::string to_string() const;  // "local@domain", or just "local" for <postmaster>
  void append_to(std::string& out) const;  // the same, appended: no temporary string
  bool has_non_ascii() const;             // anywhere in it (needs SMTPUTF8, RFC 6531)
  friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

struct Path {
  bool is_null = false;        // the null reverse-path "<>" (bounces, RFC 5321 4.5.5)
  bool is_postmaster = false;  // "<postmaster>" without a domain (RFC 5321 4.1.1.3)
  Mailbox mailbox;
  std::string source_route;  // "@a,@b" before the colon: accepted and ignored (RFC 5321 C)
  std::string to_string() const;  // with angle brackets
  void append_to(std::string& out) const;  // the same, appended: no temporary string
  friend bool operator==(const Path&, const Path&) = default;
};

struct AddressSyntax {
  bool allow_utf8 = false;        // RFC 6531: only after MAIL ... SMTPUTF8
  bool allow_null = false;        // "<>" is a reverse-path, never a forward-path
  bool allow_postmaster = false;  // bare "<postmaster>" is a forward-path only
};

// Parses "<...>" exactly (the whole input). Errors read
// "column N: expected ... (RFC 5321 4.1.2)".
absl::StatusOr<Path> parse_path(std::string_view text, const AddressSyntax& syntax = {});
// "local@domain" without brackets (used for ORCPT values and the CLI).
absl::StatusOr<Mailbox> parse_mailbox(std::string_view text, bool allow_utf8 = false);
// A domain name or an address literal such as "[192.0.2.1]" or "[IPv6:::1]".
absl::Status validate_domain_or_literal(std::string_view text, bool allow_utf8 = false);

bool is_atext(unsigned char c);
// True if any octet is outside US-ASCII (needs SMTPUTF8, RFC 6531).
bool has_non_ascii(std::string_view text);

}  // namespace smtplab::smtp
