// SPF macros (RFC 7208 7): the syntax of a macro-string, and its expansion
// for one check. Domain-specs in a record and the explanation text an "exp"
// modifier points at are both macro-strings; only the explanation may use
// %{c}, %{r} and %{t} (7.2), and only it may hold spaces (6.2, explain-string).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "agents/auth/ip_address.hpp"

namespace smtplab::auth {

enum class MacroScope { kDomainSpec, kExplanation };

// What is wrong with `text` as a macro-string (RFC 7208 7.1), or nothing.
std::optional<std::string> macro_string_error(std::string_view text, MacroScope scope);
// The same for a domain-spec: a macro-string ending in a macro or in "." and a
// top label (RFC 7208 12, domain-end).
std::optional<std::string> domain_spec_error(std::string_view text);

// The values the letters stand for during one check_host() (RFC 7208 7.2).
struct MacroValues {
  std::string sender;         // s: <sender>, local-part "postmaster" when it had none
  std::string local_part;     // l
  std::string sender_domain;  // o
  std::string domain;         // d: the current <domain>
  IpAddress ip;               // i, c, v
  std::string helo;           // h
  std::string receiver;       // r: the checking host's name ("unknown" if not known)
  std::int64_t timestamp = 0; // t: seconds since the epoch
  // p: the validated domain name of the client (5.5), "unknown" if none.
  // nullopt when the lookups it needs have not been answered yet.
  std::function<std::optional<std::string>()> validated_domain;
};

// Expands a macro-string that macro_string_error() accepted. nullopt only when
// %{p} waits for DNS.
std::optional<std::string> expand_macros(std::string_view text, const MacroValues& values);

// Cuts labels off the left of an expanded domain-spec until it is at most 253
// octets (RFC 7208 7.3).
std::string truncate_domain(std::string domain);

}  // namespace smtplab::auth
