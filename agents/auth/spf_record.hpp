// An SPF record (RFC 7208 4.5, 4.6, 12): which TXT records are SPF records,
// and one record parsed into its mechanisms and modifiers. A record with a
// syntax error anywhere is a permerror before anything is evaluated (4.6),
// so parsing is whole-record and separate from evaluation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agents/auth/ip_address.hpp"

namespace smtplab::auth {

// "v=spf1" (any case) followed by a space or nothing (RFC 7208 4.5).
bool is_spf_record(std::string_view txt);

// The result a matching mechanism gives (RFC 7208 4.6.2); "+" when unwritten.
enum class SpfQualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };

enum class SpfMechanismKind { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };
std::string_view spf_mechanism_name(SpfMechanismKind kind);  // "all", "include", ...
// include, a, mx, ptr and exists cost a DNS lookup against the limit of 10 (4.6.4).
bool counts_as_lookup(SpfMechanismKind kind);

struct SpfMechanism {
  SpfQualifier qualifier = SpfQualifier::kPass;
  SpfMechanismKind kind = SpfMechanismKind::kAll;
  std::string domain_spec;      // a macro-string; empty means the current domain (a, mx, ptr)
  std::optional<IpAddress> network;  // ip4 and ip6
  int ip4_prefix = 32;          // ip4, a, mx
  int ip6_prefix = 128;         // ip6, a, mx
  std::string text;             // the term as the record wrote it
};

struct SpfModifier {
  std::string name;   // lower case
  std::string value;  // a macro-string
};

struct SpfRecord {
  std::vector<SpfMechanism> mechanisms;  // in order of evaluation
  std::optional<std::string> redirect;   // domain-spec of redirect= (6.1)
  std::optional<std::string> exp;        // domain-spec of exp= (6.2)
  std::vector<SpfModifier> unknown;      // ignored, but had to be well-formed (6)
};

struct SpfSyntaxError {
  std::string term;     // the term at fault, as written
  std::size_t column;   // 1-based, in the record
  std::string problem;  // what is wrong, with its RFC section
};

using SpfRecordParse = std::variant<SpfRecord, SpfSyntaxError>;
SpfRecordParse parse_spf_record(std::string_view text);

}  // namespace smtplab::auth
