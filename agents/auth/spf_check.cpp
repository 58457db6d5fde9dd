#include "agents/auth/spf_check.hpp"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "base/absl_string_view.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/auth/spf_macro.hpp"
#include "agents/auth/spf_record.hpp"

namespace smtplab::auth {

std::string_view spf_result_name(SpfResult result) {
  switch (result) {
    case SpfResult::kNone: return "none";
    case SpfResult::kNeutral: return "neutral";
    case SpfResult::kPass: return "pass";
    case SpfResult::kFail: return "fail";
    case SpfResult::kSoftFail: return "softfail";
    case SpfResult::kTempError: return "temperror";
    case SpfResult::kPermError: return "permerror";
  }
  return "?";
}

std::string_view spf_reason_name(SpfReason reason) {
  switch (reason) {
    case SpfReason::kMatched: return "matched";
    case SpfReason::kDefault: return "default";
    case SpfReason::kInvalidDomain: return "invalid_domain";
    case SpfReason::kNoSuchDomain: return "no_such_domain";
    case SpfReason::kNoRecord: return "no_record";
    case SpfReason::kMultipleRecords: return "multiple_records";
    case SpfReason::kSyntaxError: return "syntax_error";
    case SpfReason::kTooManyLookups: return "too_many_lookups";
    case SpfReason::kTooManyVoidLookups: return "too_many_void_lookups";
    case SpfReason::kTooManyMxRecords: return "too_many_mx_records";
    case SpfReason::kIncludeNone: return "include_none";
    case SpfReason::kRedirectNone: return "redirect_none";
    case SpfReason::kInvalidTarget: return "invalid_target";
    case SpfReason::kDnsError: return "dns_error";
  }
  return "?";
}

std::string_view spf_identity_name(SpfIdentity identity) {
  return identity == SpfIdentity::kHelo ? "helo" : "mailfrom";
}

SpfCheck::SpfCheck(SpfRequest request, SpfSettings settings)
    : request_(std::move(request)), settings_(std::move(settings)) {}

void SpfCheck::answer(const DnsQuestion& question, DnsResult result) {
  auto key = std::make_pair(question.name, question.type);
  if (index_.contains(key)) return;
  index_.emplace(std::move(key), answered_.size());
  answered_.push_back({question, std::move(result)});
}

namespace {

// A usable domain for check_host() (RFC 7208 4.3): labels of 1 to 63 octets,
// at least two of them, at most 253 octets, and not an address literal.
bool is_checkable_domain(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  if (domain.empty() || domain.size() > 253) return false;
  if (domain.find_first_of("[]") != std::string_view::npos) return false;
  int labels = 0;
  for (absl::string_view label : absl::StrSplit(av(domain), '.')) {
    if (label.empty() || label.size() > 63) return false;
    ++labels;
  }
  return labels >= 2;
}

// A name a mechanism may look up (RFC 7208 4.8): no empty or over-long label.
bool is_lookup_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(av(name), '.')) {
    if (label.empty() || label.size() > 63) return false;
  }
  return true;
}

bool within(std::string_view name, std::string_view domain) {
  return absl::EqualsIgnoreCase(av(name), av(domain)) ||
         (name.size() > domain.size() && absl::EndsWithIgnoreCase(av(name), av(domain)) &&
          name[name.size() - domain.size() - 1] == '.');
}

SpfResult qualifier_result(SpfQualifier q) {
  switch (q) {
    case SpfQualifier::kPass: return SpfResult::kPass;
    case SpfQualifier::kFail: return SpfResult::kFail;
    case SpfQualifier::kSoftFail: return SpfResult::kSoftFail;
    case SpfQualifier::kNeutral: return SpfResult::kNeutral;
  }
  return SpfResult::kNeutral;
}

// How one check_host() ended; `pending` when it stopped for an unanswered question.
struct Outcome {
  SpfResult result = SpfResult::kNeutral;
  SpfReason reason = SpfReason::kDefault;
  std::string decided_by;
  std::string mechanism;
  std::string problem;
  std::string explanation;
  bool pending = false;
};

// What a mechanism did: matched, did not, or ended the check (an error, or a
// question to answer first).
struct Match {
  enum Kind { kNo, kYes, kEnded } kind = kNo;
  Outcome ended;
};

}  // namespace

// One evaluation over the answers the check holds so far.
class SpfEvaluation {
 public:
  explicit SpfEvaluation(SpfCheck& check) : check_(check), settings_(check.settings_) {}

  std::variant<DnsQuestion, SpfVerdict> run() {
    const SpfRequest& request = check_.request_;
    std::string sender = request.mail_from;
    if (request.identity == SpfIdentity::kHelo || sender.empty()) sender = absl::StrCat("postmaster@", request.helo);
    const std::size_t at = sender.rfind('@');
    std::string local = at == std::string::npos ? std::string() : sender.substr(0, at);
    std::string domain = at == std::string::npos ? sender : sender.substr(at + 1);
    // A sender without a local-part is checked as postmaster (4.3).
    if (local.empty()) {
      local = "postmaster";
      sender = absl::StrCat(local, "@", domain);
    }
    local_part_ = local;
    sender_ = sender;
    sender_domain_ = domain;

    SpfVerdict verdict;
    verdict.domain = domain;
    verdict.sender = sender;
    Outcome outcome;
    if (!is_checkable_domain(domain)) {
      outcome = {SpfResult::kNone, SpfReason::kInvalidDomain, domain, "", 
                 absl::StrCat("'", domain, "' is not a domain SPF can check: it needs two or more labels of 1 to 63 octets (RFC 7208 4.3)")};
    } else {
      outcome = check_host(normalized_dns_name(domain), /*in_include=*/false);
    }
    if (outcome.pending) return *missing_;
    verdict.result = outcome.result;
    verdict.reason = outcome.reason;
    verdict.decided_by = std::move(outcome.decided_by);
    verdict.mechanism = std::move(outcome.mechanism);
    verdict.problem = std::move(outcome.problem);
    verdict.explanation = std::move(outcome.explanation);
    verdict.dns_lookups = lookups_;
    verdict.void_lookups = voids_;
    verdict.steps = std::move(steps_);
    verdict.lookups = check_.answered_;
    return verdict;
  }

 private:
  // The answer to a question, or null (and the question noted) when unasked.
  const DnsResult* lookup(const std::string& name, DnsType type) {
    auto it = check_.index_.find(std::make_pair(name, type));
    if (it != check_.index_.end()) return &check_.answered_[it->second].result;
    if (!missing_) missing_ = DnsQuestion{name, type};
    return nullptr;
  }

  static Outcome pending() {
    Outcome o;
    o.pending = true;
    return o;
  }

  Outcome error(SpfResult result, SpfReason reason, const std::string& domain, std::string term,
                std::string problem) const {
    Outcome o;
    o.result = result;
    o.reason = reason;
    o.decided_by = domain;
    o.mechanism = std::move(term);
    o.problem = std::move(problem);
    return o;
  }

  Outcome dns_error(const std::string& domain, std::string term, const std::string& name, DnsType type,
                    DnsOutcome outcome) const {
    return error(SpfResult::kTempError, SpfReason::kDnsError, domain, std::move(term),
                 absl::StrCat("the ", av(dns_type_name(type)), " lookup of ", name, " ended in ",
                              av(dns_outcome_name(outcome)), " (RFC 7208 2.6.6)"));
  }

  MacroValues macro_values(const std::string& domain) {
    MacroValues v;
    v.sender = sender_;
    v.local_part = local_part_;
    v.sender_domain = sender_domain_;
    v.domain = domain;
    v.ip = check_.request_.ip;
    v.helo = check_.request_.helo;
    v.receiver = check_.request_.receiver;
    v.timestamp = check_.request_.timestamp;
    v.validated_domain = [this, domain]() { return validated_domain(domain); };
    return v;
  }

  // The domain a mechanism or modifier names: its expanded domain-spec, or
  // the current domain when it names none. nullopt while %{p} waits for DNS.
  std::optional<std::string> target(const std::string& domain_spec, const std::string& domain) {
    if (domain_spec.empty()) return domain;
    std::optional<std::string> expanded = expand_macros(domain_spec, macro_values(domain));
    if (!expanded) return std::nullopt;
    return normalized_dns_name(truncate_domain(std::move(*expanded)));
  }

  // The names from the client's PTR records whose addresses include the
  // client (RFC 7208 5.5). nullopt while a lookup waits.
  std::optional<std::vector<std::string>> validated_names(bool count_void) {
    const IpAddress& ip = check_.request_.ip;
    const DnsResult* ptr = lookup(ip.reverse_name(), DnsType::kPtr);
    if (!ptr) return std::nullopt;
    std::vector<std::string> valid;
    if (ptr->outcome != DnsOutcome::kAnswer) {
      if (count_void && is_void(ptr->outcome)) ++voids_;
      return valid;  // a failed PTR lookup matches nothing (5.5)
    }
    const std::size_t names = std::min<std::size_t>(ptr->records.size(), settings_.max_ptr_names);
    for (std::size_t i = 0; i < names; ++i) {
      const std::string name = normalized_dns_name(ptr->records[i]);
      if (!is_lookup_name(name)) continue;
      const DnsResult* addresses = lookup(name, ip.is_v6() ? DnsType::kAaaa : DnsType::kA);
      if (!addresses) return std::nullopt;
      if (addresses->outcome != DnsOutcome::kAnswer) continue;  // an error skips the name (5.5)
      for (const std::string& text : addresses->records) {
        std::optional<IpAddress> address = IpAddress::parse(text);
        if (address && *address == ip) {
          valid.push_back(name);
          break;
        }
      }
    }
    return valid;
  }

  // %{p}: a validated name within the current domain if there is one, else
  // any validated name, else "unknown" (RFC 7208 7.3).
  std::optional<std::string> validated_domain(const std::string& domain) {
    std::optional<std::vector<std::string>> names = validated_names(/*count_void=*/false);
    if (!names) return std::nullopt;
    for (const std::string& name : *names) {
      if (within(name, domain)) return name;
    }
    if (!names->empty()) return names->front();
    return std::string("unknown");
  }

  bool note_void() { return ++voids_ <= settings_.max_void_lookups; }

  Outcome too_many_voids(const std::string& domain, const SpfMechanism& m) const {
    return error(SpfResult::kPermError, SpfReason::kTooManyVoidLookups, domain, m.text,
                 absl::StrCat("more than ", settings_.max_void_lookups,
                              " lookups found no records (RFC 7208 4.6.4)"));
  }

  // Does any address of `name` (A or AAAA, by the client's family) lie in the
  // client's network of the mechanism's prefix length? (5.3, 5.4)
  Match addresses_match(const std::string& domain, const SpfMechanism& m, const std::string& name, bool count_void) {
    const IpAddress& ip = check_.request_.ip;
    const DnsType type = ip.is_v6() ? DnsType::kAaaa : DnsType::kA;
    if (!is_lookup_name(name)) return {};
    const DnsResult* result = lookup(name, type);
    if (!result) return {Match::kEnded, pending()};
    if (is_error(result->outcome)) return {Match::kEnded, dns_error(domain, m.text, name, type, result->outcome)};
    if (is_void(result->outcome)) {
      if (count_void && !note_void()) return {Match::kEnded, too_many_voids(domain, m)};
      return {};
    }
    const int prefix = ip.is_v6() ? m.ip6_prefix : m.ip4_prefix;
    for (const std::string& text : result->records) {
      std::optional<IpAddress> address = IpAddress::parse(text);
      if (address && ip.in_network(*address, prefix)) return {Match::kYes, {}};
    }
    return {};
  }

  Match evaluate(const std::string& domain, const SpfMechanism& m) {
    const IpAddress& ip = check_.request_.ip;
    std::optional<std::string> name;
    if (m.kind != SpfMechanismKind::kAll && m.kind != SpfMechanismKind::kIp4 && m.kind != SpfMechanismKind::kIp6) {
      name = target(m.domain_spec, domain);
      if (!name) return {Match::kEnded, pending()};
    }
    switch (m.kind) {
      case SpfMechanismKind::kAll:
        return {Match::kYes, {}};
      case SpfMechanismKind::kIp4:
      case SpfMechanismKind::kIp6:
        return {ip.in_network(*m.network, m.kind == SpfMechanismKind::kIp6 ? m.ip6_prefix : m.ip4_prefix)
                    ? Match::kYes : Match::kNo, {}};
      case SpfMechanismKind::kA:
        return addresses_match(domain, m, *name, /*count_void=*/true);
      case SpfMechanismKind::kMx: {
        if (!is_lookup_name(*name)) return {};
        const DnsResult* mx = lookup(*name, DnsType::kMx);
        if (!mx) return {Match::kEnded, pending()};
        if (is_error(mx->outcome)) return {Match::kEnded, dns_error(domain, m.text, *name, DnsType::kMx, mx->outcome)};
        if (is_void(mx->outcome)) {
          if (!note_void()) return {Match::kEnded, too_many_voids(domain, m)};
          return {};
        }
        if (static_cast<int>(mx->records.size()) > settings_.max_mx_records) {
          return {Match::kEnded, error(SpfResult::kPermError, SpfReason::kTooManyMxRecords, domain, m.text,
                                       absl::StrCat(*name, " has ", mx->records.size(), " MX records, more than ",
                                                    settings_.max_mx_records, " (RFC 7208 4.6.4)"))};
        }
        for (const std::string& exchange : mx->records) {
          Match match = addresses_match(domain, m, normalized_dns_name(exchange), /*count_void=*/false);
          if (match.kind != Match::kNo) return match;
        }
        return {};
      }
      case SpfMechanismKind::kPtr: {
        std::optional<std::vector<std::string>> names = validated_names(/*count_void=*/true);
        if (!names) return {Match::kEnded, pending()};
        if (voids_ > settings_.max_void_lookups) return {Match::kEnded, too_many_voids(domain, m)};
        for (const std::string& valid : *names) {
          if (within(valid, *name)) return {Match::kYes, {}};
        }
        return {};
      }
      case SpfMechanismKind::kExists: {
        if (!is_lookup_name(*name)) return {};
        // Always an A query, whatever the client's family (5.7).
        const DnsResult* result = lookup(*name, DnsType::kA);
        if (!result) return {Match::kEnded, pending()};
        if (is_error(result->outcome)) return {Match::kEnded, dns_error(domain, m.text, *name, DnsType::kA, result->outcome)};
        if (is_void(result->outcome)) {
          if (!note_void()) return {Match::kEnded, too_many_voids(domain, m)};
          return {};
        }
        return {Match::kYes, {}};
      }
      case SpfMechanismKind::kInclude: {
        Outcome inner = check_host(*name, /*in_include=*/true);
        if (inner.pending) return {Match::kEnded, inner};
        switch (inner.result) {
          case SpfResult::kPass:
            return {Match::kYes, {}};
          case SpfResult::kFail:
          case SpfResult::kSoftFail:
          case SpfResult::kNeutral:
            return {};
          case SpfResult::kTempError:
          case SpfResult::kPermError:
            return {Match::kEnded, inner};
          case SpfResult::kNone:
            return {Match::kEnded,
                    error(SpfResult::kPermError, SpfReason::kIncludeNone, domain, m.text,
                          absl::StrCat("the included domain ", *name, " has no SPF record (RFC 7208 5.2)"))};
        }
        return {};
      }
    }
    return {};
  }

  // The explanation of a fail (6.2): the exp= domain's one TXT record,
  // expanded; the default when anything about it is wrong.
  std::optional<std::string> explanation(const std::string& domain, const SpfRecord& record) {
    auto fallback = [&]() -> std::optional<std::string> {
      return expand_macros(settings_.default_explanation, macro_values(domain));
    };
    if (!record.exp) return fallback();
    std::optional<std::string> name = target(*record.exp, domain);
    if (!name) return std::nullopt;
    if (!is_lookup_name(*name)) return fallback();
    const DnsResult* txt = lookup(*name, DnsType::kTxt);
    if (!txt) return std::nullopt;
    if (txt->outcome != DnsOutcome::kAnswer || txt->records.size() != 1) return fallback();
    const std::string& text = txt->records.front();
    if (macro_string_error(text, MacroScope::kExplanation)) return fallback();
    return expand_macros(text, macro_values(domain));
  }

  Outcome check_host(const std::string& domain, bool in_include) {
    steps_.push_back({domain, "(record)", false});
    if (!is_checkable_domain(domain)) {
      return error(SpfResult::kNone, SpfReason::kInvalidDomain, domain, "",
                   absl::StrCat("'", domain, "' is not a domain SPF can check (RFC 7208 4.3)"));
    }
    const DnsResult* txt = lookup(domain, DnsType::kTxt);
    if (!txt) return pending();
    if (is_error(txt->outcome)) return dns_error(domain, "", domain, DnsType::kTxt, txt->outcome);
    if (txt->outcome == DnsOutcome::kNxDomain) {
      return error(SpfResult::kNone, SpfReason::kNoSuchDomain, domain, "",
                   absl::StrCat(domain, " does not exist (RFC 7208 4.3)"));
    }
    const std::string* chosen = nullptr;
    int found = 0;
    for (const std::string& record : txt->records) {
      if (!is_spf_record(record)) continue;
      ++found;
      chosen = &record;
    }
    if (found == 0) {
      return error(SpfResult::kNone, SpfReason::kNoRecord, domain, "",
                   absl::StrCat(domain, " publishes no SPF record (RFC 7208 4.5)"));
    }
    if (found > 1) {
      return error(SpfResult::kPermError, SpfReason::kMultipleRecords, domain, "",
                   absl::StrCat(domain, " publishes ", found, " SPF records; there must be one (RFC 7208 4.5)"));
    }
    steps_.back().term = *chosen;
    SpfRecordParse parsed = parse_spf_record(*chosen);
    if (const auto* bad = std::get_if<SpfSyntaxError>(&parsed)) {
      return error(SpfResult::kPermError, SpfReason::kSyntaxError, domain, bad->term,
                   absl::StrCat("column ", bad->column, ": ", bad->problem));
    }
    const SpfRecord& record = std::get<SpfRecord>(parsed);

    for (const SpfMechanism& m : record.mechanisms) {
      if (counts_as_lookup(m.kind) && ++lookups_ > settings_.max_dns_lookups) {
        return too_many_lookups(domain, m.text);
      }
      steps_.push_back({domain, m.text, false});
      const std::size_t step = steps_.size() - 1;
      Match match = evaluate(domain, m);
      if (match.kind == Match::kEnded) return match.ended;
      if (match.kind == Match::kNo) continue;
      steps_[step].matched = true;
      Outcome o;
      o.result = qualifier_result(m.qualifier);
      o.reason = SpfReason::kMatched;
      o.decided_by = domain;
      o.mechanism = m.text;
      if (o.result == SpfResult::kFail && !in_include) {
        std::optional<std::string> text = explanation(domain, record);
        if (!text) return pending();
        o.explanation = std::move(*text);
      }
      return o;
    }

    if (record.redirect) {
      const std::string term = absl::StrCat("redirect=", *record.redirect);
      if (++lookups_ > settings_.max_dns_lookups) return too_many_lookups(domain, term);
      steps_.push_back({domain, term, true});
      std::optional<std::string> name = target(*record.redirect, domain);
      if (!name) return pending();
      Outcome inner = check_host(*name, in_include);
      if (!inner.pending && inner.result == SpfResult::kNone) {
        return error(SpfResult::kPermError, SpfReason::kRedirectNone, domain, term,
                     absl::StrCat("the redirect's domain ", *name, " has no SPF record (RFC 7208 6.1)"));
      }
      return inner;
    }
    Outcome o;
    o.result = SpfResult::kNeutral;
    o.reason = SpfReason::kDefault;
    o.decided_by = domain;
    return o;
  }

  Outcome too_many_lookups(const std::string& domain, std::string term) const {
    return error(SpfResult::kPermError, SpfReason::kTooManyLookups, domain, std::move(term),
                 absl::StrCat("more than ", settings_.max_dns_lookups,
                              " mechanisms and redirects that query DNS (RFC 7208 4.6.4)"));
  }

  SpfCheck& check_;
  const SpfSettings& settings_;
  std::optional<DnsQuestion> missing_;
  std::string sender_, local_part_, sender_domain_;
  int lookups_ = 0;
  int voids_ = 0;
  std::vector<SpfStep> steps_;
};

std::variant<DnsQuestion, SpfVerdict> SpfCheck::next() { return SpfEvaluation(*this).run(); }

}  // namespace smtplab::auth
