#include "agents/auth/dns_lookup.hpp"

#include "absl/strings/ascii.h"

namespace smtplab::auth {

std::string_view dns_type_name(DnsType type) {
  switch (type) {
    case DnsType::kA: return "A";
    case DnsType::kAaaa: return "AAAA";
    case DnsType::kMx: return "MX";
    case DnsType::kTxt: return "TXT";
    case DnsType::kPtr: return "PTR";
  }
  return "?";
}

std::string_view dns_outcome_name(DnsOutcome outcome) {
  switch (outcome) {
    case DnsOutcome::kAnswer: return "answer";
    case DnsOutcome::kNoData: return "nodata";
    case DnsOutcome::kNxDomain: return "nxdomain";
    case DnsOutcome::kServFail: return "servfail";
    case DnsOutcome::kTimeout: return "timeout";
  }
  return "?";
}

std::string normalized_dns_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  absl::AsciiStrToLower(&out);
  return out;
}

}  // namespace smtplab::auth
