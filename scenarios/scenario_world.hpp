// Builds a running world from a Scenario: for each domain an MUA host
// (laptop.D), an MSA (submit.D, port 587), its MTAs (mx.D or the MX hosts it
// lists) and an MDA (mail.D), plus the extra hosts; DNS records for all of
// them; and the timed actions on the scheduler. Then runs it in virtual time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "agents/mda/mda.hpp"
#include "agents/mta/mta.hpp"
#include "agents/mua/mua.hpp"
#include "sim/tls/certificate_authority.hpp"
#include "agents/tls_policy.hpp"
#include "scenarios/scenario.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::scenarios {

struct RunSummary {
  std::size_t submitted = 0;
  std::size_t delivered = 0;     // copies filed into mailboxes (not counting bounces)
  std::size_t bounces_delivered = 0;  // DSNs filed into senders' mailboxes
  std::size_t bounced = 0;       // recipients given up on (DSNs sent)
  std::size_t deferrals = 0;     // times a recipient was deferred
  std::size_t still_queued = 0;  // messages left in queues at the end
  absl::Duration ended_at;
  bool drained = true;  // false: stopped at max_duration with work left
};

class ScenarioWorld {
 public:
  ScenarioWorld(const Scenario& scenario, std::uint64_t seed, sim::TraceLevel level = sim::TraceLevel::kFull);
  absl::Status build();
  // Runs until nothing is left to do or max_duration passes. `progress` is
  // called now and then with the virtual time reached.
  RunSummary run(const std::function<void(absl::Duration)>& progress = {});

  const Scenario& scenario() const { return scenario_; }
  std::size_t queued_messages() const;

  sim::Scheduler scheduler;
  sim::Trace trace;
  sim::SimNetwork network;
  sim::SimDns dns;
  std::map<std::string, std::unique_ptr<agents::Mta>> mtas;  // by host (MSAs too)
  std::map<std::string, std::unique_ptr<agents::Mda>> mdas;
  std::map<std::string, std::unique_ptr<agents::Mua>> muas;

 private:
  agents::HostContext context(const std::string& host);
  absl::Status add_host(const std::string& name);
  void schedule(const ActionSpec& action);
  void send(const SendSpec& send);
  // TLS from the domain's `tls` settings; null where the domain has none.
  absl::StatusOr<std::shared_ptr<const tls::TlsContext>> server_tls(const DomainSpec& domain, const std::string& host);
  absl::StatusOr<std::shared_ptr<const tls::TlsContext>> client_tls(const DomainSpec& domain);
  agents::ClientTlsPolicy client_policy(const DomainSpec& domain, const std::string& level);
  absl::Status configure_tls(const DomainSpec& domain, const std::string& host, agents::MtaSettings& settings);

  std::unique_ptr<tls::CertificateAuthority> ca_;  // the run's CA, made when a domain uses TLS
  std::map<std::string, std::shared_ptr<const tls::TlsContext>> client_contexts_;  // by domain

  const Scenario& scenario_;
  std::size_t next_address_ = 0;
  std::size_t submitted_ = 0;
};

}  // namespace smtplab::scenarios
