// Building a scenario's world, step by step: the network (latency, the
// run's CA, attackers), every host's address, then per domain its DNS, its
// MDA, its MTAs and its MSA, then the extra hosts; last, the actions are
// scheduled. Every agent's settings start from the agents' own defaults.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agents/policies/greylist.hpp"
#include "agents/policies/rate_limit.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/inprocess/starttls_stripper.hpp"

namespace smtplab::scenarios {

absl::Status ScenarioWorld::build() {
  if (auto st = set_up_network(); !st.ok()) return st;
  if (auto st = add_hosts(); !st.ok()) return st;
  for (const auto& d : scenario_.domains) {
    publish_dns(d);
    if (auto st = start_mda(d); !st.ok()) return st;
    if (auto st = start_domain_mtas(d); !st.ok()) return st;
    if (auto st = start_msa(d); !st.ok()) return st;
  }
  if (auto st = start_extra_hosts(); !st.ok()) return st;
  for (const auto& a : scenario_.actions) schedule(a);
  return absl::OkStatus();
}

absl::Status ScenarioWorld::set_up_network() {
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
  return absl::OkStatus();
}

// Hosts first, so every address exists before anyone refers to it.
absl::Status ScenarioWorld::add_hosts() {
  const Scenario& s = scenario_;
  for (const auto& d : s.domains) {
    for (const auto& h : {"laptop." + d.name, "submit." + d.name, "mail." + d.name}) {
      if (auto st = add_host(h); !st.ok()) return st;
    }
    for (const auto& m : mx_hosts_of(d)) {
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
  return absl::OkStatus();
}

// The domain's MX records (RFC 5321 5.1; RFC 7505 for the null MX), or the
// failure every query for it meets.
void ScenarioWorld::publish_dns(const DomainSpec& d) {
  sim::DnsRecords records;
  if (d.null_mx) {
    records.mx = {{0, "."}};
  } else {
    for (const auto& m : mx_hosts_of(d)) records.mx.push_back({m.preference, m.host});
  }
  records.failure = d.dns_failure;
  dns.set(d.name, records);
}

// The MDA, with postmaster always there (RFC 5321 4.5.1).
absl::Status ScenarioWorld::start_mda(const DomainSpec& d) {
  agents::MdaSettings mda;
  mda.domains = {d.name};
  mda.quota_is_permanent = d.quota_permanent;
  mda.endpoint.session.offer_pipelining = d.pipelining;
  mda.users["postmaster"] = {};
  for (const auto& u : d.users) mda.users[u.name] = {u.quota};
  if (!loopback_options_.spool_root.empty()) mda.maildir_root = loopback_options_.spool_root + "/mail." + d.name;
  auto& m = mdas["mail." + d.name];
  m = std::make_unique<agents::Mda>(context("mail." + d.name), mda);
  return m->start();
}

// What a domain says about all its mail servers alike, its MTAs and its MSA.
absl::Status ScenarioWorld::apply_domain_settings(const DomainSpec& d, const std::string& host,
                                                  agents::MtaSettings& settings) {
  settings.endpoint.session.offer_pipelining = d.pipelining;
  if (d.connection_cache) settings.connection_cache = *d.connection_cache;
  if (d.max_message_size) settings.endpoint.session.max_message_octets = *d.max_message_size;
  return configure_tls(d, host, settings);
}

// The MTAs: the final destination for the domain, and outbound for its MSA.
absl::Status ScenarioWorld::start_domain_mtas(const DomainSpec& d) {
  for (const auto& record : mx_hosts_of(d)) {
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
    std::optional<agents::GreylistSettings> greylisting = d.greylisting;
    for (const auto& h : scenario_.hosts) {
      if (h.name != record.host) continue;
      if (h.greylisting) greylisting = h.greylisting->settings;
      for (const auto& r : h.relay_from) settings.relay_clients.push_back(address_of(r));
      if (!h.smarthost.empty()) settings.smarthost = h.smarthost;
      settings.transport = h.transport;
      settings.open_relay = h.open_relay;
      if (h.transport.count(d.name)) {
        settings.local_domains.clear();
        settings.relay_domains = {d.name};
      }
    }
    if (auto st = apply_domain_settings(d, record.host, settings); !st.ok()) return st;
    mta = std::make_unique<agents::Mta>(context(record.host), settings);
    if (greylisting) mta->add_policy(std::make_shared<agents::GreylistPolicy>(clock_, *greylisting));
    if (d.rate_limit) mta->add_policy(std::make_shared<agents::RateLimitPolicy>(clock_, *d.rate_limit));
    if (auto st = start_mta(*mta, record.host); !st.ok()) return st;
  }
  return absl::OkStatus();
}

// The MSA (RFC 6409): AUTH, then everything goes to the domain's first MTA.
absl::Status ScenarioWorld::start_msa(const DomainSpec& d) {
  const std::string host = "submit." + d.name;
  agents::MtaSettings msa;
  msa.agent_name = "msa";
  msa.port = 587;
  msa.submission = true;
  for (const auto& u : d.users) msa.users[u.name] = u.password;
  msa.smarthost = mx_hosts_of(d).front().host;
  if (auto st = apply_domain_settings(d, host, msa); !st.ok()) return st;
  if (d.tls && d.tls->submission_port == 465 && msa.endpoint.tls) {
    msa.port = 465;  // RFC 8314 3.3: submission over implicit TLS
    msa.endpoint.implicit_tls = true;
  }
  auto& submit = mtas[host];
  submit = std::make_unique<agents::Mta>(context(host), msa);
  return start_mta(*submit, host);
}

// Hosts outside any domain: relays, smarthosts, open relays.
absl::Status ScenarioWorld::start_extra_hosts() {
  for (const auto& h : scenario_.hosts) {
    auto& mta = mtas[h.name];
    if (mta) continue;  // an MX host of a domain, built with it
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
    mta = std::make_unique<agents::Mta>(context(h.name), settings);
    if (h.greylisting && h.greylisting->settings) {
      mta->add_policy(std::make_shared<agents::GreylistPolicy>(clock_, *h.greylisting->settings));
    }
    if (auto st = start_mta(*mta, h.name); !st.ok()) return st;
  }
  return absl::OkStatus();
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
  auto creds = ca_->issue(tls::certificate_for({host}, clock_.epoch(), d.tls->certificate, "www." + d.name));
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

}  // namespace smtplab::scenarios
