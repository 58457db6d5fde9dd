// SPF's check_host() (RFC 7208 4), sans-I/O. An SpfCheck asks for the DNS
// answers it needs one question at a time (next() returns a DnsQuestion) and
// is given each answer (answer()); when it needs nothing more, next() returns
// the verdict. Each call evaluates afresh over the answers it has been given,
// so the evaluation is written as the RFC describes it, top to bottom, and a
// world can put every lookup on its clock: a check makes at most a few dozen.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "agents/auth/dns_lookup.hpp"
#include "agents/auth/ip_address.hpp"

namespace smtplab::auth {

enum class SpfResult { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };
std::string_view spf_result_name(SpfResult result);  // "none", "neutral", "pass", ... (RFC 7208 2.6)

// Why the check ended as it did: the trace's explanation key refines on it.
enum class SpfReason {
  kMatched,             // a mechanism matched (SpfVerdict::mechanism)
  kDefault,             // nothing matched and no redirect: neutral (4.7)
  kInvalidDomain,       // the domain is malformed or one label (4.3)
  kNoSuchDomain,        // the domain does not exist (4.3)
  kNoRecord,            // the domain has no SPF record (4.5)
  kMultipleRecords,     // more than one SPF record (4.5)
  kSyntaxError,         // the record does not parse (4.6)
  kTooManyLookups,      // more than 10 DNS-querying terms (4.6.4)
  kTooManyVoidLookups,  // more than 2 lookups that found nothing (4.6.4)
  kTooManyMxRecords,    // an mx mechanism found more than 10 exchanges (4.6.4)
  kIncludeNone,         // an include's domain has no SPF record (5.2)
  kRedirectNone,        // a redirect's domain has no SPF record (6.1)
  kInvalidTarget,       // an expanded domain-spec is not a usable name (4.8)
  kDnsError,            // a lookup timed out or failed (4.4, 5)
};
std::string_view spf_reason_name(SpfReason reason);  // "matched", "default", ...

// Who is checked: the MAIL FROM identity, or the HELO identity when the
// reverse-path is null or a receiver checks HELO on its own (RFC 7208 2.3, 2.4).
enum class SpfIdentity { kMailFrom, kHelo };
std::string_view spf_identity_name(SpfIdentity identity);  // "mailfrom", "helo"

struct SpfRequest {
  IpAddress ip;
  SpfIdentity identity = SpfIdentity::kMailFrom;
  std::string mail_from;  // the reverse-path's address, without <>; empty for <>
  std::string helo;       // the HELO/EHLO argument
  std::string receiver;   // the checking host's name, for %{r} and Received-SPF
  std::int64_t timestamp = 0;  // seconds since the epoch, for %{t}
};

struct SpfSettings {
  int max_dns_lookups = 10;        // RFC 7208 4.6.4
  int max_void_lookups = 2;        // RFC 7208 4.6.4 (SHOULD)
  int max_mx_records = 10;         // per mx mechanism, RFC 7208 4.6.4
  int max_ptr_names = 10;          // per ptr mechanism or %{p}, RFC 7208 4.6.4
  // The explanation of a fail when the domain gives none (6.2), a macro-string.
  std::string default_explanation = "%{o} does not designate %{c} as a permitted sender";
};

// One term as the evaluation went through it, for the trace and the stepper.
struct SpfStep {
  std::string domain;  // whose record
  std::string term;    // the mechanism or modifier as written, "(record)" for the lookup
  bool matched = false;
};

struct SpfVerdict {
  SpfResult result = SpfResult::kNone;
  SpfReason reason = SpfReason::kNoRecord;
  std::string domain;       // the identity's domain (the first check_host's <domain>)
  std::string sender;       // the <sender> of check_host: mail_from, or postmaster@helo
  std::string decided_by;   // the domain whose record gave the result
  std::string mechanism;    // the mechanism that matched, or the term at fault
  std::string problem;      // for errors: what went wrong, with its RFC section
  std::string explanation;  // for fail: the domain's explanation, or the default
  int dns_lookups = 0;      // terms counted against max_dns_lookups
  int void_lookups = 0;
  std::vector<SpfStep> steps;
  std::vector<DnsLookup> lookups;  // every query in the order made, with its answer
};

class SpfCheck {
 public:
  explicit SpfCheck(SpfRequest request, SpfSettings settings = {});

  // The next question to answer, or the verdict once every answer is in.
  std::variant<DnsQuestion, SpfVerdict> next();
  // The answer to the question next() returned.
  void answer(const DnsQuestion& question, DnsResult result);

 private:
  SpfRequest request_;
  SpfSettings settings_;
  std::vector<DnsLookup> answered_;  // in the order asked
  std::map<std::pair<std::string, DnsType>, std::size_t> index_;
  friend class SpfEvaluation;
};

// For callers that can answer at once (a zone file, a test): runs the check
// to its verdict, asking `resolve` each question.
template <typename Resolve>
SpfVerdict run_spf_check(SpfCheck& check, Resolve&& resolve) {
  for (;;) {
    std::variant<DnsQuestion, SpfVerdict> step = check.next();
    if (auto* verdict = std::get_if<SpfVerdict>(&step)) return std::move(*verdict);
    const DnsQuestion& question = std::get<DnsQuestion>(step);
    check.answer(question, resolve(question));
  }
}

}  // namespace smtplab::auth
