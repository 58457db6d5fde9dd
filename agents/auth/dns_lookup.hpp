// What the sender-authentication checks ask of DNS and what they are told.
// The checks are sans-I/O: they name the question (DnsQuestion) and the
// caller answers it from wherever it resolves names, the simulated resolver
// of a world or a zone file on the command line (ZoneResolver). Nothing here
// knows how the answer travelled.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace smtplab::auth {

// The record types SPF, DKIM and DMARC look up (RFC 7208 4.4 and 5, RFC 6376
// 3.6.2.1, RFC 7489 6.1). CNAMEs are the resolver's business: it follows
// them and answers for the name at the end of the chain.
enum class DnsType : std::uint8_t { kA, kAaaa, kMx, kTxt, kPtr };
std::string_view dns_type_name(DnsType type);  // "A", "AAAA", "MX", "TXT", "PTR"

struct DnsQuestion {
  std::string name;  // lower case, no trailing dot
  DnsType type = DnsType::kTxt;
  friend bool operator==(const DnsQuestion&, const DnsQuestion&) = default;
};

// How a lookup ended (RFC 1035 4.1.1 RCODE, RFC 2308 for NODATA).
enum class DnsOutcome : std::uint8_t {
  kAnswer,    // NOERROR with records
  kNoData,    // NOERROR, the name exists, no records of the type
  kNxDomain,  // RCODE 3, the name does not exist
  kServFail,  // RCODE 2 or another error: try again later
  kTimeout,   // no answer in time: try again later
};
std::string_view dns_outcome_name(DnsOutcome outcome);  // "answer", "nodata", ...
// A void lookup (RFC 7208 4.6.4): the name exists with no records, or does not exist.
inline bool is_void(DnsOutcome o) { return o == DnsOutcome::kNoData || o == DnsOutcome::kNxDomain; }
inline bool is_error(DnsOutcome o) { return o == DnsOutcome::kServFail || o == DnsOutcome::kTimeout; }

struct DnsResult {
  DnsOutcome outcome = DnsOutcome::kNxDomain;
  // One entry per record, in the form the checks compare: an address as text
  // for A and AAAA, a host name for MX (preference dropped: SPF tries every
  // exchange, RFC 7208 5.4) and PTR, and a TXT record's character-strings
  // joined with nothing between them (RFC 7208 3.3, RFC 6376 3.6.2.2).
  std::vector<std::string> records;

  static DnsResult answer(std::vector<std::string> records) {
    if (records.empty()) return {DnsOutcome::kNoData, {}};
    return {DnsOutcome::kAnswer, std::move(records)};
  }
};

// One question and its result, as a check made it: what the trace shows.
struct DnsLookup {
  DnsQuestion question;
  DnsResult result;
};

// Lower case without the trailing dot: the form DnsQuestion::name is in.
std::string normalized_dns_name(std::string_view name);

}  // namespace smtplab::auth
