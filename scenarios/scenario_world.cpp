#include "scenarios/scenario_world.hpp"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/policies/fault_injector.hpp"
#include "agents/policies/greylist.hpp"
#include "agents/policies/rate_limit.hpp"
#include "base/absl_string_view.hpp"
#include "sim/inprocess/starttls_stripper.hpp"

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

std::vector<MxSpec> mx_of(const DomainSpec& d) {
  return d.mx.empty() ? std::vector<MxSpec>{{10, "mx." + d.name}} : d.mx;
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

absl::Status ScenarioWorld::start_mta(agents::Mta& mta, const std::string& host) {
  if (!loopback_options_.spool_root.empty()) {
    auto spool = agents::SpoolDirectory::open(absl::StrCat(loopback_options_.spool_root, "/", host, "/queue"));
    if (!spool.ok()) return spool.status();
    mta.use_store(**spool);
    spools_.push_back(std::move(*spool));
  }
  return mta.start();
}

absl::StatusOr<std::shared_ptr<const tls::TlsContext>> ScenarioWorld::server_tls(const DomainSpec& d,
                                                                                 const std::string& host) {
  if (!d.tls || d.tls->starttls == TlsSpec::StartTls::kNotOffered) return nullptr;
  // The web server's certificate, installed on the mail server by mistake,
  // is the usual wrong name.
  auto spec = tls::certificate_for({host}, clock_.epoch(), d.tls->certificate, "www." + d.name);
  if (!spec.ok()) return spec.status();
  auto creds = ca_->issue(*spec);
  if (!creds.ok()) return creds.status();
  tls::TlsServerSettings settings;
  settings.credentials = *creds;
  settings.min_version = d.tls->min_version;
  settings.max_version = d.tls->max_version;
  return tls::TlsContext::server(settings);
}

absl::StatusOr<std::shared_ptr<const tls::TlsContext>> ScenarioWorld::client_tls(const DomainSpec& d) {
  if (!ca_) return nullptr;
  auto& ctx = client_contexts_[d.name];
  if (ctx) return ctx;
  tls::TlsClientSettings settings;
  settings.trusted_roots_pem = ca_->root_pem();
  if (d.tls) {
    settings.min_version = d.tls->min_version;
    settings.max_version = d.tls->max_version;
  }
  auto made = tls::TlsContext::client(settings);
  if (!made.ok()) return made.status();
  ctx = *made;
  return ctx;
}

agents::ClientTlsPolicy ScenarioWorld::client_policy(const DomainSpec& d, agents::TlsLevel level) {
  agents::ClientTlsPolicy policy;
  if (!d.tls || !ca_) return policy;
  policy.level = level;
  if (auto ctx = client_tls(d); ctx.ok()) policy.context = *ctx;
  return policy;
}

absl::Status ScenarioWorld::configure_tls(const DomainSpec& d, const std::string& host, agents::MtaSettings& settings) {
  if (!d.tls) return absl::OkStatus();
  auto server = server_tls(d, host);
  if (!server.ok()) return server.status();
  settings.endpoint.tls = *server;
  settings.endpoint.session.starttls_unavailable = d.tls->starttls == TlsSpec::StartTls::kRefused;
  settings.outgoing_tls = client_policy(d, d.tls->outgoing);
  return absl::OkStatus();
}

absl::Status ScenarioWorld::build() {
  const Scenario& s = scenario_;
  if (sim_network_) {
    sim_network_->set_default_link({s.latency, 0});
  } else if (s.latency != absl::Milliseconds(10)) {
    warnings_.push_back("latency: real sockets on loopback have their own (microseconds); the setting is ignored");
  }
  if (std::any_of(s.domains.begin(), s.domains.end(), [](const DomainSpec& d) { return d.tls.has_value(); })) {
    auto ca = tls::CertificateAuthority::create("smtplab run CA", clock_.epoch() - absl::Hours(24 * 365),
                                                clock_.epoch() + absl::Hours(24 * 3650));
    if (!ca.ok()) return ca.status();
    ca_ = std::make_unique<tls::CertificateAuthority>(std::move(*ca));
  }
  for (const auto& a : s.attackers) {
    if (sim_network_) {
      sim_network_->set_tap(a.between[0], a.between[1], std::make_shared<sim::StartTlsStripper>(&trace, a.strip_starttls));
    } else {
      warnings_.push_back(absl::StrCat("attacker between ", a.between[0], " and ", a.between[1],
                                       ": an attacker needs an in-process link (a kernel socket has no tap); "
                                       "this run has none"));
    }
  }
  // Hosts first, so every address exists before anyone refers to it.
  for (const auto& d : s.domains) {
    for (const auto& h : {"laptop." + d.name, "submit." + d.name, "mail." + d.name}) {
      if (auto st = add_host(h); !st.ok()) return st;
    }
    for (const auto& m : mx_of(d)) {
      if (auto st = add_host(m.host); !st.ok()) return st;
    }
  }
  for (const auto& h : s.hosts) {
    if (auto st = add_host(h.name); !st.ok()) return st;
  }
  for (const auto& a : s.actions) {
    if (a.kind == ActionSpec::Kind::kSend) {
      if (auto st = add_host("laptop." + a.send.from.substr(a.send.from.find('@') + 1)); !st.ok()) return st;
    }
  }

  for (const auto& d : s.domains) {
    // DNS for the domain (RFC 5321 5.1; RFC 7505 for the null MX).
    sim::DnsRecords records;
    if (d.null_mx) {
      records.mx = {{0, "."}};
    } else {
      for (const auto& m : mx_of(d)) records.mx.push_back({m.preference, m.host});
    }
    records.failure = d.dns_failure;
    dns.set(d.name, records);

    // The MDA, with postmaster always there (RFC 5321 4.5.1).
    agents::MdaSettings mda;
    mda.domains = {d.name};
    mda.quota_is_permanent = d.quota_permanent;
    mda.endpoint.session.offer_pipelining = d.pipelining;
    mda.users["postmaster"] = {};
    for (const auto& u : d.users) mda.users[u.name] = {u.quota};
    if (!loopback_options_.spool_root.empty()) mda.maildir_root = loopback_options_.spool_root + "/mail." + d.name;
    auto& m = mdas["mail." + d.name];
    m = std::make_unique<agents::Mda>(context("mail." + d.name), mda);
    if (auto st = m->start(); !st.ok()) return st;

    // The MTAs: final destination for the domain, outbound for its MSA.
    const std::vector<MxSpec> mx = mx_of(d);
    for (const auto& record : mx) {
      auto& mta = mtas[record.host];
      if (mta) continue;  // a host serving as MX for several domains: first one wins
      agents::MtaSettings settings;
      settings.local_domains = {d.name};
      settings.mda_host = "mail." + d.name;
      settings.mda_address = address_of(settings.mda_host);
      settings.relay_clients = {address_of("submit." + d.name)};
      for (const auto& h : d.relay_from) settings.relay_clients.push_back(address_of(h));
      settings.smarthost = d.smarthost;
      // An MX host also listed under `hosts` takes its settings from there
      // too: with a transport for the domain it is a backup MX that holds
      // the mail and forwards it, rather than delivering itself.
      for (const auto& h : s.hosts) {
        if (h.name != record.host) continue;
        for (const auto& r : h.relay_from) settings.relay_clients.push_back(address_of(r));
        if (!h.smarthost.empty()) settings.smarthost = h.smarthost;
        settings.transport = h.transport;
        settings.open_relay = h.open_relay;
        if (h.transport.count(d.name)) {
          settings.local_domains.clear();
          settings.relay_domains = {d.name};
        }
      }
      settings.endpoint.session.offer_pipelining = d.pipelining;
      if (d.connection_cache) settings.connection_cache = *d.connection_cache;
      if (d.max_message_size) settings.endpoint.session.max_message_octets = *d.max_message_size;
      if (auto st = configure_tls(d, record.host, settings); !st.ok()) return st;
      mta = std::make_unique<agents::Mta>(context(record.host), settings);
      if (d.greylisting) {
        mta->add_policy(std::make_shared<agents::GreylistPolicy>(clock_, agents::GreylistSettings{.delay = *d.greylisting}));
      }
      if (d.rate_limit) {
        mta->add_policy(std::make_shared<agents::RateLimitPolicy>(
            clock_, agents::RateLimitSettings{d.rate_limit->first, d.rate_limit->second}));
      }
      if (auto st = start_mta(*mta, record.host); !st.ok()) return st;
    }

    // The MSA (RFC 6409): AUTH, then everything goes to the domain's first MTA.
    agents::MtaSettings msa;
    msa.agent_name = "msa";
    msa.port = 587;
    msa.submission = true;
    for (const auto& u : d.users) msa.users[u.name] = u.password;
    msa.smarthost = mx.front().host;
    msa.endpoint.session.offer_pipelining = d.pipelining;
    if (d.connection_cache) msa.connection_cache = *d.connection_cache;
    if (d.max_message_size) msa.endpoint.session.max_message_octets = *d.max_message_size;
    if (auto st = configure_tls(d, "submit." + d.name, msa); !st.ok()) return st;
    if (d.tls && d.tls->submission_port == 465 && msa.endpoint.tls) {
      msa.port = 465;  // RFC 8314 3.3: submission over implicit TLS
      msa.endpoint.implicit_tls = true;
    }
    auto& submit = mtas["submit." + d.name];
    submit = std::make_unique<agents::Mta>(context("submit." + d.name), msa);
    if (auto st = start_mta(*submit, "submit." + d.name); !st.ok()) return st;
  }

  for (const auto& h : s.hosts) {
    agents::MtaSettings settings;
    for (const auto& r : h.relay_from) settings.relay_clients.push_back(address_of(r));
    settings.smarthost = h.smarthost;
    settings.transport = h.transport;
    settings.open_relay = h.open_relay;
    settings.local_domains = h.local_domains;
    if (!h.local_domains.empty()) {
      settings.mda_host = "mail." + h.local_domains.front();
      settings.mda_address = address_of(settings.mda_host);
    }
    auto& mta = mtas[h.name];
    if (mta) continue;
    mta = std::make_unique<agents::Mta>(context(h.name), settings);
    if (auto st = start_mta(*mta, h.name); !st.ok()) return st;
  }

  for (const auto& a : s.actions) schedule(a);
  return absl::OkStatus();
}

void ScenarioWorld::send(const SendSpec& spec) {
  const std::string domain = spec.from.substr(spec.from.find('@') + 1);
  const std::string local = spec.from.substr(0, spec.from.find('@'));
  const std::string laptop = "laptop." + domain;
  agents::MuaSettings settings;
  std::string target = spec.via.empty() ? "submit." + domain : spec.via;
  const DomainSpec* sender_domain = find_domain(scenario_, domain);
  const bool implicit = spec.via.empty() && sender_domain != nullptr && sender_domain->tls &&
                        sender_domain->tls->submission_port == 465 && sender_domain->tls->starttls != TlsSpec::StartTls::kNotOffered;
  int port = implicit ? 465 : 587;
  if (const auto colon = target.find(':'); colon != std::string::npos) {
    (void)absl::SimpleAtoi(target.substr(colon + 1), &port);
    target = target.substr(0, colon);
  } else if (target.rfind("submit.", 0) != 0) {
    port = 25;  // straight to an MTA, as a server or a spammer would
  }
  settings.msa_host = target;
  settings.msa_address = address_of(target);
  settings.msa_port = port;
  settings.pipelining = spec.pipelining ? smtp::PipeliningMode::kAuto : smtp::PipeliningMode::kOff;
  if (spec.authenticate && spec.via.empty()) {
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
      if (const auto* id = e.detail("dsn_message_id")) dsn_ids.insert(*id);
    }
  }
  for (const auto& e : trace.events()) {
    if (e.kind == sim::EventKind::kMailboxDeliver) ++(dsn_ids.count(e.message) ? summary.bounces_delivered : summary.delivered);
    if (e.kind == sim::EventKind::kQueueBounce || e.kind == sim::EventKind::kQueueExpire) ++summary.bounced;
    if (e.kind == sim::EventKind::kQueueDefer) ++summary.deferrals;
  }
  summary.submitted = submitted_;
  summary.still_queued = queued_messages();
  return summary;
}

}  // namespace smtplab::scenarios
