// A scenario as an instructor writes it (YAML, see docs/scenario-reference.md),
// after loading and validation: domains with their users and mail servers,
// extra hosts, timed actions, and the expectations that make it a test.
// Every piece remembers where in the file it came from, for error messages.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agents/policies/fault_injector.hpp"
#include "agents/policies/greylist.hpp"
#include "agents/policies/rate_limit.hpp"
#include "agents/smtp_connection_cache.hpp"
#include "agents/tls_policy.hpp"
#include "sim/tls/certificate_authority.hpp"
#include "sim/tls/tls_context.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/trace/trace_kinds.hpp"

namespace smtplab::scenarios {

struct Where {
  int line = 0;    // 1-based; 0 when not from a file
  int column = 0;
};

struct UserSpec {
  std::string name;
  std::string password = "secret";
  std::size_t quota = 0;  // octets; 0: none
};

// A host a scenario names, with a port when it gives one ("host:port").
struct HostPort {
  std::string host;
  std::optional<int> port;
};

struct MxSpec {
  int preference = 10;
  std::string host;
};

// TLS for a domain's servers (MSA, MTAs) and clients (its MTAs, its users' MUAs).
// Certificates come from the run's own CA, checked at virtual time.
struct TlsSpec {
  Where where;
  // What its servers present; kWrongName names the domain's web server.
  tls::CertificateProblem certificate = tls::CertificateProblem::kNone;
  enum class StartTls { kOffered, kNotOffered, kRefused /* 454 4.7.0 */ };
  StartTls starttls = StartTls::kOffered;
  tls::TlsVersion min_version = tls::TlsVersion::k1_2;  // for its servers and clients alike
  tls::TlsVersion max_version = tls::TlsVersion::k1_3;
  agents::TlsLevel outgoing = agents::TlsLevel::kMay;      // its MTAs to other MTAs
  agents::TlsLevel submission = agents::TlsLevel::kVerify;  // its users' mail clients to the MSA
  int submission_port = 587;          // 587: STARTTLS (RFC 6409); 465: implicit TLS (RFC 8314)
};

// Someone on the path between two hosts who strips STARTTLS from EHLO replies.
struct AttackerSpec {
  Where where;
  std::vector<std::string> between;  // two hosts
  // false: it only listens (attack.read until TLS starts, then attack.blind).
  bool strip_starttls = true;
};

struct DomainSpec {
  std::string name;
  Where where;
  std::vector<UserSpec> users;
  std::vector<MxSpec> mx;       // empty: one MTA, mx.<domain>
  bool null_mx = false;         // RFC 7505: the domain takes no mail
  sim::DnsFailure dns_failure = sim::DnsFailure::kNone;  // how every query for the domain fails
  std::string smarthost;        // the domain's MTA sends everything through this host
  std::optional<agents::GreylistSettings> greylisting;  // on the domain's inbound MTAs
  std::optional<agents::RateLimitSettings> rate_limit;   // messages per window, per client
  std::optional<std::size_t> max_message_size;
  bool quota_permanent = false;   // 552 5.2.2 instead of 452 4.2.2
  bool pipelining = true;         // its servers offer PIPELINING
  // Its MSA and MTAs keep sessions to next hops open for the next message
  // (Postfix's connection cache); none: a connection per attempt.
  std::optional<agents::ConnectionCacheSettings> connection_cache;
  std::vector<std::string> relay_from;  // other hosts its MTAs relay for
  std::optional<TlsSpec> tls;           // none: no TLS anywhere in the domain
};

// The domain's MX records: those it lists, or one MTA, mx.<domain>.
inline std::vector<MxSpec> mx_hosts_of(const DomainSpec& d) {
  return d.mx.empty() ? std::vector<MxSpec>{{10, "mx." + d.name}} : d.mx;
}

// A host's own greylisting, over its domain's (a backup MX that must not
// greylist its primary, or one MX of several that does).
struct HostGreylisting {
  std::optional<agents::GreylistSettings> settings;  // nullopt: this host does not greylist
};

struct HostSpec {
  std::string name;
  Where where;
  std::vector<std::string> relay_from;  // hosts allowed to relay through it
  std::string smarthost;
  std::map<std::string, std::string> transport;  // domain -> next hop host (Postfix transport_maps)
  std::vector<std::string> local_domains;  // it delivers these domains' mail to their MDA
  bool open_relay = false;                 // relays for anyone (never do this)
  std::optional<HostGreylisting> greylisting;  // unset: as its domain says
};

struct SendSpec {
  std::string from;
  Where from_where;
  std::vector<std::string> to;
  std::string subject = "Hello";
  std::string body = "Hello,\r\nthis message was sent by a smtplab scenario.\r\n";
  bool authenticate = true;  // AUTH at the MSA with the sender's password
  // Connect here instead of the sender's MSA; without a port, 587 for an
  // MSA (submit.*) and 25 for any other host.
  std::optional<HostPort> via;
  int count = 1;             // send this many, `interval` apart
  absl::Duration interval = absl::Seconds(1);
  bool pipelining = true;
  std::optional<agents::TlsLevel> tls;  // none: the domain's submission setting
};

struct FaultSpec {
  std::string host;
  agents::SmtpStep step = agents::SmtpStep::kRcpt;
  int code = 421;
  std::string enhanced;
  std::string text;
  int skip = 0;
  int times = 1;
};

struct ActionSpec {
  enum class Kind { kSend, kHostDown, kHostUp, kPartition, kHeal, kDns, kFault };
  Kind kind = Kind::kSend;
  Where where;
  absl::Duration at = absl::ZeroDuration();
  SendSpec send;
  std::vector<std::string> hosts;  // host_down/up: one; partition/heal: two
  std::string dns_name;            // dns: the name ...
  std::vector<MxSpec> dns_mx;      // ... its new MX records, or
  sim::DnsFailure dns_failure = sim::DnsFailure::kNone;  // ... its failure mode (kNone: answers again)
  FaultSpec fault;
};

struct ExpectSpec {
  enum class Kind { kDelivered, kNotDelivered, kBounced, kReply, kDeferred, kQueueEmpty, kEvent };
  Kind kind = Kind::kDelivered;
  Where where;
  std::string to;                     // delivered, not_delivered, bounced, deferred
  std::optional<absl::Duration> by;   // at or before this virtual time
  std::optional<absl::Duration> after;
  std::string host;                   // reply, deferred, event
  int code = 0;                       // reply
  sim::EventKind event_kind = sim::EventKind::kConnOpen;  // event
  std::string text;                   // reply, event: the text contains this
  int count = -1;                     // -1 (unset): at least one; else exactly this many (0: never)
};

struct Scenario {
  std::string file;
  std::string title;
  std::string summary;  // one line, for `smtplab list`
  std::string lesson_before;
  std::string lesson_after;
  std::uint64_t seed = 1;
  absl::Duration max_duration = absl::Hours(24 * 7);  // beyond any queue lifetime
  absl::Duration latency = absl::Milliseconds(10);
  std::vector<DomainSpec> domains;
  std::vector<HostSpec> hosts;
  std::vector<ActionSpec> actions;
  std::vector<ExpectSpec> expects;
  std::vector<AttackerSpec> attackers;
};

}  // namespace smtplab::scenarios
