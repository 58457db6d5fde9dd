#include "agents/testing/mail_world.hpp"

namespace smtplab::agents::testing {
namespace {

struct HostSpec {
  const char* name;
  const char* address;
};
// RFC 5737 documentation addresses: simulated (or mapped onto 127.0.0.x),
// never on a real wire.
constexpr HostSpec kHosts[] = {
    {"laptop.example.org", "192.0.2.10"}, {"submit.example.org", "192.0.2.20"},
    {"mx.example.org", "192.0.2.25"},     {"mail.example.org", "192.0.2.26"},
    {"mx1.example.net", "198.51.100.25"}, {"mx2.example.net", "198.51.100.26"},
    {"mail.example.net", "198.51.100.30"},
};

std::string address_of(const std::string& host) {
  for (const auto& h : kHosts) {
    if (host == h.name) return h.address;
  }
  return {};
}

}  // namespace

std::string MailChain::send(std::vector<std::string> to, std::string subject, std::string body) {
  return laptop->submit(Submission{"alice@example.org", std::move(to), std::move(subject), std::move(body)});
}

void build_mail_chain(ChainEnvironment& env, MailChain& chain) {
  auto context = [&env](const std::string& host) {
    return HostContext{host, address_of(host), env.clock, env.network, &env.dns, env.trace, env.rng};
  };
  for (const auto& h : kHosts) {
    (void)env.add_host(h.name, h.address);
    env.dns.set(h.name, {.a = {h.address}});
  }
  env.dns.set("example.org", {.mx = {{10, "mx.example.org"}}});
  sim::DnsRecords net{.mx = {{10, "mx1.example.net"}}};
  if (env.backup_mx) net.mx.push_back({20, "mx2.example.net"});
  env.dns.set("example.net", net);

  chain.laptop = std::make_unique<Mua>(context("laptop.example.org"),
                                       MuaSettings{.msa_host = "submit.example.org",
                                                   .msa_address = address_of("submit.example.org"),
                                                   .credentials = smtp::ClientCredentials{"alice", "wonderland"},
                                                   .connection_cache = env.connection_cache});
  MtaSettings msa;
  msa.connection_cache = env.connection_cache;
  msa.agent_name = "msa";
  msa.port = 587;
  msa.submission = true;
  msa.users = {{"alice", "wonderland"}};
  msa.smarthost = "mx.example.org";
  chain.msa = std::make_unique<Mta>(context("submit.example.org"), msa);

  MtaSettings org;
  org.connection_cache = env.connection_cache;
  org.local_domains = {"example.org"};
  org.mda_host = "mail.example.org";
  org.mda_address = address_of("mail.example.org");
  org.relay_clients = {address_of("submit.example.org")};
  chain.org_mx = std::make_unique<Mta>(context("mx.example.org"), org);

  MtaSettings net_mx;
  net_mx.connection_cache = env.connection_cache;
  net_mx.local_domains = {"example.net"};
  net_mx.mda_host = "mail.example.net";
  net_mx.mda_address = address_of("mail.example.net");
  chain.mx1 = std::make_unique<Mta>(context("mx1.example.net"), net_mx);
  // The backup MX is also final for the domain here: it hands to the MDA too.
  chain.mx2 = std::make_unique<Mta>(context("mx2.example.net"), net_mx);

  chain.net_mda = std::make_unique<Mda>(context("mail.example.net"),
                                        MdaSettings{.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {}}}});
  chain.org_mda = std::make_unique<Mda>(
      context("mail.example.org"), MdaSettings{.domains = {"example.org"}, .users = {{"alice", {}}, {"postmaster", {}}}});
  for (auto* m : {chain.msa.get(), chain.org_mx.get(), chain.mx1.get(), chain.mx2.get()}) (void)m->start();
  (void)chain.net_mda->start();
  (void)chain.org_mda->start();
}

MailWorld::MailWorld(MailWorldOptions o)
    : scheduler(o.seed), trace(scheduler, o.trace_level, o.keep_trace), network(scheduler, &trace), dns(scheduler, &trace) {
  ChainEnvironment env{scheduler, network, dns, &trace, &scheduler.rng(),
                       [this](const std::string& h, const std::string& a) { return network.add_host(h, a); },
                       o.backup_mx, o.connection_cache};
  build_mail_chain(env, *this);
}

HostContext MailWorld::context(const std::string& host) {
  return HostContext{host, network.address_of(host), scheduler, network, &dns, &trace, &scheduler.rng()};
}

LoopbackMailWorld::LoopbackMailWorld(MailWorldOptions o)
    : runtime(1), trace(runtime.clock(), o.trace_level, o.keep_trace), network(runtime), dns(runtime.clock(), &trace),
      rng(o.seed) {
  ChainEnvironment env{runtime.clock(), network, dns, &trace, &rng,
                       [this](const std::string& h, const std::string& a) { return network.add_host(h, a); },
                       o.backup_mx, o.connection_cache};
  build_mail_chain(env, *this);
}

bool LoopbackMailWorld::run_until(std::function<bool()> done, absl::Duration limit) {
  return runtime.run_until(done, limit);
}

}  // namespace smtplab::agents::testing
