#include "sim/dns/sim_dns.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/absl_string_view.hpp"

namespace smtplab::sim {
namespace {

std::string normalise(const std::string& name) {
  std::string n = absl::AsciiStrToLower(name);
  if (!n.empty() && n.back() == '.') n.pop_back();  // "example.org." is "example.org"
  return n;
}

// Whether `name` is already as the zone keys it (lower case, no final dot),
// as nearly every name asked for is: then it is looked up without a copy.
bool is_normal(std::string_view name) {
  if (!name.empty() && name.back() == '.') return false;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

std::string describe(const DnsAnswer& a, DnsType type) {
  if (a.status != DnsStatus::kOk) return std::string(dns_status_name(a.status));
  if (type == DnsType::kMx) {
    std::vector<std::string> parts;
    for (const auto& mx : a.mx) parts.push_back(absl::StrCat(mx.preference, " ", mx.exchange));
    return absl::StrJoin(parts, ", ");
  }
  return absl::StrJoin(a.records, ", ");
}

}  // namespace

std::string_view dns_type_name(DnsType type) {
  switch (type) {
    case DnsType::kMx: return "MX";
    case DnsType::kA: return "A";
    case DnsType::kAaaa: return "AAAA";
    case DnsType::kTxt: return "TXT";
  }
  return "?";
}

std::string_view dns_failure_name(DnsFailure failure) {
  switch (failure) {
    case DnsFailure::kNone: return "none";
    case DnsFailure::kNxDomain: return "nxdomain";
    case DnsFailure::kServFail: return "servfail";
    case DnsFailure::kTimeout: return "timeout";
  }
  return "none";
}

std::optional<DnsFailure> parse_dns_failure(std::string_view name) {
  for (DnsFailure f : {DnsFailure::kNone, DnsFailure::kNxDomain, DnsFailure::kServFail, DnsFailure::kTimeout}) {
    if (dns_failure_name(f) == name) return f;
  }
  return std::nullopt;
}

std::string_view dns_status_name(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk: return "NOERROR";
    case DnsStatus::kNoData: return "NODATA";
    case DnsStatus::kNxDomain: return "NXDOMAIN";
    case DnsStatus::kServFail: return "SERVFAIL";
    case DnsStatus::kTimeout: return "TIMEOUT";
  }
  return "?";
}

SimDns::SimDns(Clock& clock, Trace* trace, DnsSettings settings)
    : clock_(clock), trace_(trace), settings_(settings) {}

void SimDns::set(const std::string& name, DnsRecords records) { zone_[normalise(name)] = std::move(records); }
void SimDns::remove(const std::string& name) { zone_.erase(normalise(name)); }

SimDns::Zone::const_iterator SimDns::lookup(const std::string& name) const {
  return is_normal(name) ? zone_.find(std::string_view(name)) : zone_.find(normalise(name));
}

DnsRecords* SimDns::find(const std::string& name) {
  auto it = zone_.find(normalise(name));
  return it == zone_.end() ? nullptr : &it->second;
}

DnsAnswer SimDns::answer(const std::string& name, DnsType type) const {
  DnsAnswer a;
  auto it = lookup(name);
  if (it == zone_.end()) {
    a.status = DnsStatus::kNxDomain;
    return a;
  }
  const DnsRecords& r = it->second;
  switch (r.failure) {
    case DnsFailure::kNxDomain: a.status = DnsStatus::kNxDomain; return a;
    case DnsFailure::kServFail: a.status = DnsStatus::kServFail; return a;
    case DnsFailure::kTimeout: a.status = DnsStatus::kTimeout; return a;
    case DnsFailure::kNone: break;
  }
  switch (type) {
    case DnsType::kMx: a.mx = r.mx; break;
    case DnsType::kA: a.records = r.a; break;
    case DnsType::kAaaa: a.records = r.aaaa; break;
    case DnsType::kTxt: a.records = r.txt; break;
  }
  if (a.mx.empty() && a.records.empty()) a.status = DnsStatus::kNoData;
  return a;
}

std::string_view dns_purpose_name(DnsPurpose purpose) {
  switch (purpose) {
    case DnsPurpose::kMailDomain: return "mail_domain";
    case DnsPurpose::kExchanger: return "exchanger";
    case DnsPurpose::kImplicitMx: return "implicit_mx";
    case DnsPurpose::kNamedHost: return "named_host";
  }
  return "";
}

std::uint16_t wire_dns_type(DnsType type) {
  switch (type) {
    case DnsType::kMx: return 15;
    case DnsType::kA: return 1;
    case DnsType::kAaaa: return 28;
    case DnsType::kTxt: return 16;
  }
  return 0;
}

namespace {

// The answer as a resolver's DNS message carries it (RFC 1035 4.1.1):
// NODATA is a NOERROR with no records.
int wire_rcode(DnsStatus status) {
  switch (status) {
    case DnsStatus::kOk:
    case DnsStatus::kNoData:
    case DnsStatus::kTimeout: return 0;
    case DnsStatus::kNxDomain: return 3;
    case DnsStatus::kServFail: return 2;
  }
  return 0;
}

std::vector<WireDnsRecord> wire_records(const DnsAnswer& a, DnsType type) {
  std::vector<WireDnsRecord> out;
  if (a.status != DnsStatus::kOk) return out;
  for (const auto& mx : a.mx) {
    out.push_back({wire_dns_type(type), 300, static_cast<std::uint16_t>(mx.preference), mx.exchange});
  }
  for (const auto& r : a.records) out.push_back({wire_dns_type(type), 300, 0, r});
  return out;
}

}  // namespace

void SimDns::query(const std::string& asker, const std::string& name, DnsType type, DnsPurpose purpose,
                   std::function<void(const DnsAnswer&)> done) {
  DnsAnswer a = answer(name, type);
  const absl::Duration delay = a.status == DnsStatus::kTimeout ? settings_.timeout : settings_.latency;
  // The capture sees each query before the trace records it, so that the
  // event explains the packet (capture/capture_export.cpp).
  const std::uint16_t wire_id = ++wire_queries_;
  if (wire_ != nullptr) wire_->on_dns_query(clock_.now(), wire_id, {asker, normalise(name), wire_dns_type(type)});
  const bool traced = trace_ != nullptr && (trace_->wants(EventKind::kDnsQuery) || trace_->wants(EventKind::kDnsAnswer));
  if (!traced) {
    // The message-level trace records no DNS events: the answer alone is
    // carried, and no question text or details are built (issue 14).
    if (wire_ == nullptr) {
      clock_.schedule(delay, [a = std::move(a), done = std::move(done)] { done(a); });
      return;
    }
    clock_.schedule(delay, [this, asker, name, type, wire_id, a = std::move(a), done = std::move(done)] {
      tell_wire_of_answer(wire_id, asker, name, type, a);
      done(a);
    });
    return;
  }
  const TraceEvent::Details details = {{detail_key::kType, std::string(dns_type_name(type))},
                                       {detail_key::kPurpose, std::string(dns_purpose_name(purpose))}};
  const std::string question = absl::StrCat(av(dns_type_name(type)), " ", normalise(name), "?");
  if (trace_->wants(EventKind::kDnsQuery)) {
    TraceEvent e;
    e.kind = EventKind::kDnsQuery;
    e.host = asker;
    e.agent = "dns";
    e.text = question;
    e.explain = absl::StrCat("dns.query.", absl::AsciiStrToLower(av(dns_type_name(type))));
    e.details = details;
    trace_->record(std::move(e));
  }
  clock_.schedule(delay, [this, asker, name, question, type, details, wire_id, a = std::move(a),
                          done = std::move(done)] {
    tell_wire_of_answer(wire_id, asker, name, type, a);
    if (trace_->wants(EventKind::kDnsAnswer)) {
      TraceEvent e;
      e.kind = EventKind::kDnsAnswer;
      e.host = asker;
      e.agent = "dns";
      e.text = absl::StrCat(question, " ", describe(a, type));
      const bool null_mx = type == DnsType::kMx && a.mx.size() == 1 && a.mx[0].exchange == ".";
      e.explain = null_mx ? "dns.null_mx"
                          : absl::StrCat("dns.", absl::AsciiStrToLower(av(dns_status_name(a.status))));
      e.details = details;
      trace_->record(std::move(e));
    }
    done(a);
  });
}

void SimDns::tell_wire_of_answer(std::uint16_t id, const std::string& asker, const std::string& name, DnsType type,
                                 const DnsAnswer& a) {
  // A timed-out query got nothing back: no packet.
  if (wire_ == nullptr || a.status == DnsStatus::kTimeout) return;
  wire_->on_dns_answer(clock_.now(), id, {asker, normalise(name), wire_dns_type(type)}, wire_rcode(a.status),
                       wire_records(a, type));
}

}  // namespace smtplab::sim
