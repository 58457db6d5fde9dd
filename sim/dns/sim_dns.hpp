// A simulated DNS: the zone data a scenario gives (MX, A, AAAA, TXT) and the
// ways resolution fails (NXDOMAIN, SERVFAIL, timeout). Answers arrive after a
// latency through the Clock, and every query and answer goes into the trace.
// Agents use it for MX routing (RFC 5321 5.1) whatever link they run on.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "sim/clock.hpp"
#include "sim/trace/trace.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::sim {

struct MxRecord {
  int preference = 10;
  std::string exchange;  // "." is the null MX of RFC 7505
  friend bool operator==(const MxRecord&, const MxRecord&) = default;
};

enum class DnsFailure { kNone, kNxDomain, kServFail, kTimeout };
// "none", "nxdomain", "servfail", "timeout", as scenarios write them.
std::string_view dns_failure_name(DnsFailure failure);
std::optional<DnsFailure> parse_dns_failure(std::string_view name);

// Everything the zone says about one name.
struct DnsRecords {
  std::vector<MxRecord> mx;
  std::vector<std::string> a;
  std::vector<std::string> aaaa;
  std::vector<std::string> txt;
  DnsFailure failure = DnsFailure::kNone;  // every query for the name fails this way
};

enum class DnsType { kMx, kA, kAaaa, kTxt };
std::string_view dns_type_name(DnsType type);
// Its number in a DNS message (RFC 1035 3.2.2, RFC 3596 2.1).
std::uint16_t wire_dns_type(DnsType type);

enum class DnsStatus {
  kOk,        // records of the type asked for
  kNoData,    // the name exists, but has no records of that type
  kNxDomain,  // the name does not exist (a permanent answer)
  kServFail,  // the server failed (try again later)
  kTimeout,   // no answer in time (try again later)
};
std::string_view dns_status_name(DnsStatus status);

// Why a host asks, which decides what an answer means for the mail: an
// NXDOMAIN for a mail domain bounces the message, for one MX host it only
// means trying the next (RFC 5321 5.1). The trace carries it, so that each
// query and answer is explained by its purpose.
enum class DnsPurpose {
  kMailDomain,  // the MX records of a recipient's domain
  kExchanger,   // the address of one host from those MX records
  kImplicitMx,  // the address of a domain with no MX: it is its own mail server
  kNamedHost,   // the address of a host named in the configuration (a smarthost)
};
// "mail_domain", "exchanger", "implicit_mx", "named_host", as the trace writes them.
std::string_view dns_purpose_name(DnsPurpose purpose);

struct DnsAnswer {
  DnsStatus status = DnsStatus::kOk;
  std::vector<MxRecord> mx;          // for MX queries
  std::vector<std::string> records;  // for A, AAAA, TXT queries
};

struct DnsSettings {
  absl::Duration latency = absl::Milliseconds(2);  // one query's round trip
  absl::Duration timeout = absl::Seconds(5);       // glibc resolver's default per try
};

class SimDns {
 public:
  SimDns(Clock& clock, Trace* trace, DnsSettings settings = {});

  // Replaces what the zone says about `name` (case-insensitive).
  void set(const std::string& name, DnsRecords records);
  void remove(const std::string& name);
  DnsRecords* find(const std::string& name);

  // Answers through the clock; `asker` is the host asking (for the trace).
  void query(const std::string& asker, const std::string& name, DnsType type, DnsPurpose purpose,
             std::function<void(const DnsAnswer&)> done);
  // The same answer, right now (for tests and validation).
  DnsAnswer answer(const std::string& name, DnsType type) const;
  // Tells `observer` (null: nobody) of each query and answer as packets
  // between the asker and its resolver would carry them: `--pcap`.
  void set_wire_observer(WireObserver* observer) { wire_ = observer; }

 private:
  Clock& clock_;
  Trace* trace_;
  DnsSettings settings_;
  using Zone = std::map<std::string, DnsRecords, std::less<>>;
  Zone::const_iterator lookup(const std::string& name) const;
  void tell_wire_of_answer(std::uint16_t id, const std::string& asker, const std::string& name, DnsType type,
                           const DnsAnswer& answer);
  WireObserver* wire_ = nullptr;
  std::uint16_t wire_queries_ = 0;  // DNS message ids wrap, as a resolver's do

  Zone zone_;
};

}  // namespace smtplab::sim
