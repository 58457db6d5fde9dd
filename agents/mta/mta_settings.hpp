// Everything an MTA is told, each limit a named setting with Postfix's
// default where Postfix has one. Shared by the MTA's receiving side and its
// queue manager.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "agents/mta/retry_schedule.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/smtp_connection_cache.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "agents/tls_policy.hpp"

namespace smtplab::agents {

struct MtaSettings {
  std::string agent_name = "mta";   // in the trace: "mta" or "msa"
  int port = 25;
  // Domains this MTA is the final destination for: mail goes to the MDA.
  std::vector<std::string> local_domains;
  // Domains it accepts from anyone and forwards (Postfix relay_domains): a backup MX.
  std::vector<std::string> relay_domains;
  std::string mda_host;   // where the MDA runs (a host name) ...
  std::string mda_address;  // ... and its address
  int mda_port = 24;
  // Send everything that is not local here instead of looking up MX (Postfix relayhost).
  std::string smarthost;
  // Per-domain next hops, checked before the smarthost (Postfix transport_maps).
  std::map<std::string, std::string> transport;
  int remote_port = 25;  // the port of next hops found by MX
  // Client addresses allowed to relay (Postfix mynetworks), e.g. our MSA.
  std::vector<std::string> relay_clients;
  // Relay for anyone: the misconfiguration spammers look for. For teaching only.
  bool open_relay = false;
  // Mail submission agent mode (RFC 6409).
  bool submission = false;
  std::map<std::string, std::string> users;  // user -> password, for AUTH
  // Postfix hopcount_limit: more Received headers than this is a mail loop.
  int hop_limit = 50;
  RetrySettings retry;
  ServerEndpointSettings endpoint;
  ClientTimeouts client_timeouts;
  // Outgoing TLS to MX hosts and smarthosts (Postfix smtp_tls_security_level).
  // Incoming TLS is endpoint.tls: with a certificate, STARTTLS is offered.
  ClientTlsPolicy outgoing_tls;
  absl::Duration connect_timeout = absl::Seconds(30);  // Postfix smtp_connect_timeout
  // Keep connections to next hops open for the next message (Postfix's
  // connection cache); off by default, one connection per attempt.
  ConnectionCacheSettings connection_cache;
  // A queue file that cannot be removed from the spool is tried again this
  // often, this many times; a file left behind is delivered again after a
  // restart (a duplicate, never a loss).
  absl::Duration spool_retry_delay = absl::Seconds(60);
  int spool_remove_tries = 5;

  // Whether this MTA is the final destination for `domain` (any case).
  bool is_local_domain(std::string_view domain) const;
  // Whether it accepts mail for `domain` from anyone and forwards it.
  bool is_relay_domain(std::string_view domain) const;
};

}  // namespace smtplab::agents
