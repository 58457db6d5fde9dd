#include "scenarios/scenario_world.hpp"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "agents/policies/fault_injector.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::scenarios {
namespace {

// Documentation address blocks (RFC 5737): simulated hosts never reach a wire.
constexpr const char* kBlocks[] = {"192.0.2.", "198.51.100.", "203.0.113."};

const DomainSpec* find_domain(const Scenario& s, const std::string& name) {
  for (const auto& d : s.domains) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace

ScenarioWorld::ScenarioWorld(const Scenario& s, std::uint64_t seed, sim::TraceLevel level)
    : scheduler_(std::make_unique<sim::Scheduler>(seed)),
      clock_(*scheduler_),
      trace(clock_, level),
      dns(clock_, &trace),
      sim_network_(std::make_unique<sim::SimNetwork>(*scheduler_, &trace)),
      scenario_(s) {}

ScenarioWorld::ScenarioWorld(const Scenario& s, sim::LoopbackRuntime& runtime, LoopbackWorldOptions options)
    : clock_(runtime.clock()),
      loopback_rng_(options.seed),
      trace(clock_, sim::TraceLevel::kFull),
      dns(clock_, &trace),
      loopback_network_(std::make_unique<sim::LoopbackNetwork>(runtime, &trace,
                                                               sim::LoopbackNetworkSettings{options.port_offset})),
      loopback_options_(std::move(options)),
      scenario_(s) {}

ScenarioWorld::~ScenarioWorld() = default;

sim::Network& ScenarioWorld::network() {
  if (sim_network_) return *sim_network_;
  return *loopback_network_;
}

std::string ScenarioWorld::address_of(const std::string& host) const {
  return sim_network_ ? sim_network_->address_of(host) : loopback_network_->address_of(host);
}

void ScenarioWorld::set_wire_observer(sim::WireObserver* observer) {
  if (sim_network_) sim_network_->set_wire_observer(observer);
  if (loopback_network_) loopback_network_->set_wire_observer(observer);
  dns.set_wire_observer(observer);
}

agents::HostContext ScenarioWorld::context(const std::string& host) {
  return agents::HostContext{host,   address_of(host), clock_, network(), &dns, &trace,
                             scheduler_ ? &scheduler_->rng() : &loopback_rng_};
}

absl::Status ScenarioWorld::add_host(const std::string& name) {
  if (!address_of(name).empty()) return absl::OkStatus();
  const std::size_t block = next_address_ / 200, n = next_address_ % 200;
  if (block >= std::size(kBlocks)) return absl::ResourceExhaustedError("more than 600 hosts");
  ++next_address_;
  const std::string address = absl::StrCat(kBlocks[block], 10 + n);
  auto added = sim_network_ ? sim_network_->add_host(name, address) : loopback_network_->add_host(name, address);
  if (!added.ok()) return added;
  host_addresses_[name] = address;
  dns.set(name, {.a = {address}});
  return absl::OkStatus();
}

void ScenarioWorld::at(absl::Duration when, std::function<void()> callback) {
  if (scheduler_) {
    scheduler_->schedule_at(when, std::move(callback));
  } else {
    clock_.schedule(std::max(absl::ZeroDuration(), when - clock_.now()), std::move(callback));
  }
}

void ScenarioWorld::send(const SendSpec& spec) {
  const std::string domain = spec.from.substr(spec.from.find('@') + 1);
  const std::string local = spec.from.substr(0, spec.from.find('@'));
  const std::string laptop = "laptop." + domain;
  agents::MuaSettings settings;
  const std::string target = spec.via ? spec.via->host : "submit." + domain;
  const DomainSpec* sender_domain = find_domain(scenario_, domain);
  const bool implicit = !spec.via && sender_domain != nullptr && sender_domain->tls &&
                        sender_domain->tls->submission_port == 465 && sender_domain->tls->starttls != TlsSpec::StartTls::kNotOffered;
  int port = implicit ? 465 : 587;
  if (spec.via && spec.via->port) {
    port = *spec.via->port;
  } else if (target.rfind("submit.", 0) != 0) {
    port = 25;  // straight to an MTA, as a server or a spammer would
  }
  settings.msa_host = target;
  settings.msa_address = address_of(target);
  settings.msa_port = port;
  settings.pipelining = spec.pipelining ? smtp::PipeliningMode::kAuto : smtp::PipeliningMode::kOff;
  if (spec.authenticate && !spec.via) {
    if (const DomainSpec* d = find_domain(scenario_, domain)) {
      for (const auto& u : d->users) {
        if (u.name == local) settings.credentials = smtp::ClientCredentials{u.name, u.password};
      }
    }
  }
  agents::TlsLevel tls_level = agents::TlsLevel::kNone;
  if (const DomainSpec* d = find_domain(scenario_, domain); d != nullptr && d->tls) {
    tls_level = spec.tls.value_or(d->tls->submission);
    settings.tls = client_policy(*d, tls_level);
    settings.implicit_tls = implicit;
  }
  // One MUA per sender host; a new one per settings would renumber Message-IDs.
  auto& mua = muas[laptop + "|" + target + "|" + std::to_string(port) + (settings.credentials ? "|auth" : "") +
                   (spec.pipelining ? "" : "|nopipe") + "|tls=" + std::string(agents::tls_level_name(tls_level))];
  if (!mua) {
    settings.message_id_tag = std::to_string(muas.size());
    mua = std::make_unique<agents::Mua>(context(laptop), settings);
  }
  mua->submit(agents::Submission{spec.from, spec.to, spec.subject, spec.body});
  ++submitted_;
}

void ScenarioWorld::schedule(const ActionSpec& a) {
  switch (a.kind) {
    case ActionSpec::Kind::kSend:
      for (int i = 0; i < a.send.count; ++i) {
        at(a.at + a.send.interval * i, [this, &a] { send(a.send); });
      }
      break;
    case ActionSpec::Kind::kHostDown:
      at(a.at, [this, &a] {
        sim_network_ ? sim_network_->set_host_up(a.hosts[0], false) : loopback_network_->set_host_up(a.hosts[0], false);
      });
      break;
    case ActionSpec::Kind::kHostUp:
      at(a.at, [this, &a] {
        sim_network_ ? sim_network_->set_host_up(a.hosts[0], true) : loopback_network_->set_host_up(a.hosts[0], true);
      });
      break;
    case ActionSpec::Kind::kPartition:
      at(a.at, [this, &a] {
        sim_network_ ? sim_network_->partition(a.hosts[0], a.hosts[1]) : loopback_network_->partition(a.hosts[0], a.hosts[1]);
      });
      break;
    case ActionSpec::Kind::kHeal:
      at(a.at, [this, &a] {
        sim_network_ ? sim_network_->heal(a.hosts[0], a.hosts[1]) : loopback_network_->heal(a.hosts[0], a.hosts[1]);
      });
      break;
    case ActionSpec::Kind::kDns:
      at(a.at, [this, &a] {
        sim::DnsRecords records;
        if (sim::DnsRecords* existing = dns.find(a.dns_name)) records = *existing;
        if (!a.dns_mx.empty()) {
          records.mx.clear();
          for (const auto& m : a.dns_mx) records.mx.push_back({m.preference, m.host});
        }
        records.failure = a.dns_failure;
        dns.set(a.dns_name, records);
        sim::TraceEvent e;
        e.kind = sim::EventKind::kFaultDns;
        e.host = a.dns_name;
        e.agent = "dns";
        e.text = absl::StrCat("the zone changes: ", a.dns_name,
                              a.dns_failure == sim::DnsFailure::kNone
                                  ? " answers normally"
                                  : absl::StrCat(" now fails with ", av(sim::dns_failure_name(a.dns_failure))));
        e.explain = name_of(e.kind);
        trace.record(std::move(e));
      });
      break;
    case ActionSpec::Kind::kFault:
      at(a.at, [this, &a] {
        auto it = mtas.find(a.fault.host);
        if (it == mtas.end()) return;
        agents::InjectedFault fault;
        fault.step = a.fault.step;
        fault.reply = smtp::make_reply(a.fault.code, a.fault.enhanced, a.fault.text);
        fault.skip = a.fault.skip;
        fault.times = a.fault.times;
        it->second->add_policy(std::make_shared<agents::FaultInjector>(std::vector<agents::InjectedFault>{fault}));
        sim::TraceEvent e;
        e.kind = sim::EventKind::kFaultReply;
        e.host = a.fault.host;
        e.text = absl::StrCat(a.fault.host, " will answer ", a.fault.code, " ", a.fault.enhanced, " ", a.fault.text,
                              " at ", av(agents::smtp_step_name(a.fault.step)));
        e.explain = name_of(e.kind);
        trace.record(std::move(e));
      });
      break;
  }
}

std::size_t ScenarioWorld::queued_messages() const {
  std::size_t n = 0;
  for (const auto& [host, mta] : mtas) n += mta->queue().size();
  return n;
}

RunSummary ScenarioWorld::run(const std::function<void(absl::Duration)>& progress) {
  if (!scheduler_) return summary();  // a loopback world runs on its runtime
  const absl::Duration step = absl::Hours(1);
  absl::Duration until = std::min(step, scenario_.max_duration);
  while (true) {
    scheduler_->run_until(until);
    if (progress) progress(scheduler_->now());
    if (scheduler_->pending() == 0 || until >= scenario_.max_duration) break;
    until = std::min(until + step, scenario_.max_duration);
  }
  return summary();
}

void ScenarioWorld::run_until(absl::Duration until) {
  if (scheduler_) scheduler_->run_until(until);
}

RunSummary ScenarioWorld::summary() const {
  RunSummary summary;
  summary.drained = scheduler_ ? scheduler_->pending() == 0 : false;
  // A drained run ended with its last event; a cut-off one (or a live one) now.
  summary.ended_at = !summary.drained || trace.events().empty() ? clock_.now()
                                                                : absl::Microseconds(trace.events().back().time_us);
  std::set<std::string> dsn_ids;
  for (const auto& e : trace.events()) {
    if (e.kind == sim::EventKind::kMessageDsn) {
      if (const auto* id = e.detail(sim::detail_key::kDsnMessageId)) dsn_ids.insert(*id);
    }
  }
  for (const auto& e : trace.events()) {
    if (e.kind == sim::EventKind::kMailboxDeliver) ++(dsn_ids.count(e.message) ? summary.bounces_delivered : summary.delivered);
    if (e.kind == sim::EventKind::kQueueBounce || e.kind == sim::EventKind::kQueueExpire) ++summary.bounced;
    if (e.kind == sim::EventKind::kQueueDefer) ++summary.deferrals;
    if (e.kind == sim::EventKind::kMessageRejected) ++summary.refused;
  }
  summary.submitted = submitted_;
  summary.still_queued = queued_messages();
  return summary;
}

}  // namespace smtplab::scenarios
