// Explanations of DNS lookups: a query by why it was asked (the domain's MX,
// an exchanger's address, the implicit MX, a named host), an answer by its
// type and outcome (RFC 5321 5.1, RFC 7505).
#include <string>

#include "absl/strings/str_cat.h"
#include "sim/dns/sim_dns.hpp"
#include "scenarios/explanations_internal.hpp"

namespace smtplab::scenarios::explanation_parts {

// A DNS query or answer, by the type asked and why it was asked (the trace's
// "type" and "purpose"): the same NXDOMAIN bounces a message when it is the
// mail domain's, and only skips one MX host when it is that host's.
std::string explain_dns(const sim::TraceEvent& e) {
  const std::string type = detail(e, sim::detail_key::kType);
  const std::string purpose = detail(e, sim::detail_key::kPurpose);
  const bool domain = purpose == sim::dns_purpose_name(sim::DnsPurpose::kMailDomain);
  const bool exchanger = purpose == sim::dns_purpose_name(sim::DnsPurpose::kExchanger);
  const bool implicit = purpose == sim::dns_purpose_name(sim::DnsPurpose::kImplicitMx);
  const bool named = purpose == sim::dns_purpose_name(sim::DnsPurpose::kNamedHost);
  if (e.kind == sim::EventKind::kDnsQuery) {
    if (domain) {
      return "To deliver to this domain, the MTA asks DNS for its MX records: the hosts that take its mail, each "
             "with a preference (RFC 5321 5.1).";
    }
    if (exchanger) {
      return "The MTA asks for the address (A record) of a mail exchanger from the MX list, going down the list in "
             "order of preference, lowest first (RFC 5321 5.1).";
    }
    if (implicit) {
      return "The domain has no MX records, so it is its own mail server (the implicit MX): the MTA asks for the "
             "domain's own address (RFC 5321 5.1).";
    }
    if (named) {
      return "This server sends the mail on to a host named in its configuration (its relay host, as a submission "
             "server's outgoing MTA or a smarthost, or its own mailbox server), so it asks for that host's address "
             "and looks up no MX.";
    }
    return "A DNS lookup: to deliver mail for a domain an MTA asks for its MX records, then for the address of each "
           "mail exchanger (RFC 5321 5.1).";
  }
  const std::string& x = e.explain;
  if (x == "dns.null_mx") {
    return "A null MX ('MX 0 .'): the domain says it accepts no mail at all, so the message bounces at once (RFC 7505).";
  }
  if (x == "dns.noerror") {
    if (type == sim::dns_type_name(sim::DnsType::kMx)) {
      return "The domain's MX records: the MTA tries the exchanger with the lowest preference first, and the "
             "next only if that one cannot be reached or turns the connection away; equal preferences are tried in "
             "random order (RFC 5321 5.1). A 4xx reply to a command is an answer, not a failure to reach it: the "
             "message waits and the same list is tried again later (RFC 5321 4.5.4.1).";
    }
    return "The host's address: the MTA can now open a connection to it.";
  }
  const bool for_mx_host = exchanger;
  if (x == "dns.nxdomain") {
    if (for_mx_host) {
      return "NXDOMAIN: this MX host's name does not exist. The MTA skips it and tries the next one; only if no MX "
             "host has an address does the message bounce (RFC 5321 5.1).";
    }
    if (domain) {
      return "NXDOMAIN: the name does not exist. For the domain the mail is addressed to that is permanent: the "
             "message bounces (RFC 5321 5.1).";
    }
    return "NXDOMAIN: the name does not exist. It was the only host to try, so the message cannot be routed and "
           "bounces (RFC 3463 5.4.4).";
  }
  if (x == "dns.servfail" || x == "dns.timeout") {
    const std::string what = x == "dns.servfail" ? "SERVFAIL: the DNS server failed." : "No DNS answer in time.";
    if (for_mx_host) {
      return absl::StrCat(what, " That is temporary: the MTA tries the other MX hosts, and if none can be reached "
                                "the message waits in the queue and is tried again.");
    }
    return absl::StrCat(what, " That is temporary: the message waits in the queue and is tried again "
                              "(RFC 5321 4.5.4.1).");
  }
  if (x == "dns.nodata") {
    if (type == sim::dns_type_name(sim::DnsType::kMx)) {
      return "The name exists but has no MX records. A domain with no MX is its own mail server (the implicit "
             "MX): the MTA looks up the domain's own address next (RFC 5321 5.1).";
    }
    if (for_mx_host) {
      return "The name exists but has no address of this type: the MTA skips this MX host and tries the next "
             "(RFC 5321 5.1).";
    }
    return "The name exists but has no records of the type asked for.";
  }
  return "A DNS answer: the records asked for, or why there are none.";
}

}  // namespace smtplab::scenarios::explanation_parts
