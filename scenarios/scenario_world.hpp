// Builds a running world from a Scenario: for each domain an MUA host
// (laptop.D), an MSA (submit.D, port 587), its MTAs (mx.D or the MX hosts it
// lists) and an MDA (mail.D), plus the extra hosts; DNS records for all of
// them; and the timed actions. Then runs it in virtual time, or (for
// `smtplab serve`) the same agents on loopback sockets in real time.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <vector>
#include <string>

#include "absl/status/status.h"
#include "agents/mda/mda.hpp"
#include "agents/mta/mta.hpp"
#include "agents/mta/queue_store.hpp"
#include "agents/mua/mua.hpp"
#include "sim/tls/certificate_authority.hpp"
#include "agents/tls_policy.hpp"
#include "scenarios/scenario.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/loopback/loopback_network.hpp"
#include "sim/loopback/loopback_runtime.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::scenarios {

struct RunSummary {
  std::size_t submitted = 0;     // messages the senders tried to submit
  std::size_t refused = 0;       // of those, refused by the submission server (message.rejected)
  std::size_t delivered = 0;     // copies filed into mailboxes (not counting bounces)
  std::size_t bounces_delivered = 0;  // DSNs filed into senders' mailboxes
  std::size_t bounced = 0;       // recipients given up on (DSNs sent)
  std::size_t deferrals = 0;     // times a recipient was deferred
  std::size_t still_queued = 0;  // messages left in queues at the end
  absl::Duration ended_at;
  bool drained = true;  // false: stopped at max_duration with work left
};

// Where a world runs on real sockets (smtplab serve).
struct LoopbackWorldOptions {
  // Real listener port = world port + offset (25 -> 10025); 0: any free port.
  int port_offset = 0;
  // Durable state: MTA queues in ROOT/HOST/queue, mailboxes as Maildirs in
  // ROOT/HOST/USER. Empty: both in memory.
  std::string spool_root;
  std::uint64_t seed = 1;  // equal MX preferences are still chosen by chance
};

class ScenarioWorld {
 public:
  // In virtual time over in-process links: run, step, the visualizer, tests.
  ScenarioWorld(const Scenario& scenario, std::uint64_t seed, sim::TraceLevel level = sim::TraceLevel::kFull);
  // On real loopback sockets, in the runtime's (scaled) real time: every
  // host gets its own 127.0.0.x, so swaks and smtplib can talk to its agents.
  // Timed actions happen at their (scaled) times; the caller runs `runtime`.
  ScenarioWorld(const Scenario& scenario, sim::LoopbackRuntime& runtime, LoopbackWorldOptions options);
  ~ScenarioWorld();

  absl::Status build();
  // Virtual time only: runs until nothing is left to do or max_duration
  // passes. `progress` is called now and then with the virtual time reached.
  RunSummary run(const std::function<void(absl::Duration)>& progress = {});
  // Virtual time only: runs the events up to virtual time `until`.
  void run_until(absl::Duration until);
  // The counts of a run so far, from its trace and queues.
  RunSummary summary() const;

  const Scenario& scenario() const { return scenario_; }
  std::size_t queued_messages() const;
  sim::Clock& clock() { return clock_; }
  absl::Duration now() const { return clock_.now(); }
  // Set for a loopback world (null in virtual time): where hosts listen.
  const sim::LoopbackNetwork* loopback_network() const { return loopback_network_.get(); }
  // Tells `observer` (null: nobody) what crosses the wire and what the
  // resolver is asked, for `--pcap`; call before build().
  void set_wire_observer(sim::WireObserver* observer);
  // Every host of the world and its address.
  const std::map<std::string, std::string>& host_addresses() const { return host_addresses_; }
  // What a loopback world cannot play of the scenario (attackers, latency).
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::unique_ptr<sim::Scheduler> scheduler_;  // virtual time only
  sim::Clock& clock_;
  std::mt19937_64 loopback_rng_;

 public:
  sim::Trace trace;
  sim::SimDns dns;

 private:
  // Declared before the agents, so they outlive them.
  std::unique_ptr<sim::SimNetwork> sim_network_;            // virtual time
  std::unique_ptr<sim::LoopbackNetwork> loopback_network_;  // real sockets
  std::vector<std::unique_ptr<agents::QueueStore>> spools_;

 public:
  std::map<std::string, std::unique_ptr<agents::Mta>> mtas;  // by host (MSAs too)
  std::map<std::string, std::unique_ptr<agents::Mda>> mdas;
  std::map<std::string, std::unique_ptr<agents::Mua>> muas;

 private:
  agents::HostContext context(const std::string& host);
  sim::Network& network();
  std::string address_of(const std::string& host) const;
  absl::Status add_host(const std::string& name);
  // Runs `callback` at virtual time `when` (in scaled real time on loopback).
  void at(absl::Duration when, std::function<void()> callback);
  void schedule(const ActionSpec& action);
  void send(const SendSpec& send);
  // build()'s steps, in order (scenario_world_build.cpp).
  absl::Status set_up_network();
  absl::Status add_hosts();
  void publish_dns(const DomainSpec& domain);
  absl::Status start_mda(const DomainSpec& domain);
  absl::Status start_domain_mtas(const DomainSpec& domain);
  absl::Status start_msa(const DomainSpec& domain);
  absl::Status start_extra_hosts();
  // What a domain sets for all its mail servers alike: pipelining, the
  // connection cache, the size limit, TLS.
  absl::Status apply_domain_settings(const DomainSpec& domain, const std::string& host, agents::MtaSettings& settings);
  absl::Status start_mta(agents::Mta& mta, const std::string& host);
  // TLS from the domain's `tls` settings; null where the domain has none.
  absl::StatusOr<std::shared_ptr<const tls::TlsContext>> server_tls(const DomainSpec& domain, const std::string& host);
  absl::StatusOr<std::shared_ptr<const tls::TlsContext>> client_tls(const DomainSpec& domain);
  agents::ClientTlsPolicy client_policy(const DomainSpec& domain, agents::TlsLevel level);
  absl::Status configure_tls(const DomainSpec& domain, const std::string& host, agents::MtaSettings& settings);

  LoopbackWorldOptions loopback_options_;
  std::vector<std::string> warnings_;

  std::unique_ptr<tls::CertificateAuthority> ca_;  // the run's CA, made when a domain uses TLS
  std::map<std::string, std::shared_ptr<const tls::TlsContext>> client_contexts_;  // by domain

  const Scenario& scenario_;
  std::size_t next_address_ = 0;
  std::map<std::string, std::string> host_addresses_;
  std::size_t submitted_ = 0;
};

}  // namespace smtplab::scenarios
