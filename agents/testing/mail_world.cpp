#include "agents/testing/mail_world.hpp"

namespace smtplab::agents::testing {
namespace {

struct HostSpec {
  const char* name;
  const char* address;
};
// RFC 5737 documentation addresses: simulated only, never on a real wire.
constexpr HostSpec kHosts[] = {
    {"laptop.example.org", "192.0.2.10"}, {"submit.example.org", "192.0.2.20"},
    {"mx.example.org", "192.0.2.25"},     {"mail.example.org", "192.0.2.26"},
    {"mx1.example.net", "198.51.100.25"}, {"mx2.example.net", "198.51.100.26"},
    {"mail.example.net", "198.51.100.30"},
};

}  // namespace

HostContext MailWorld::context(const std::string& host) {
  return HostContext{host, network.address_of(host), scheduler, network, &dns, &trace, &scheduler.rng()};
}

MailWorld::MailWorld(MailWorldOptions o)
    : scheduler(o.seed), trace(scheduler, o.trace_level, o.keep_trace), network(scheduler, &trace), dns(scheduler, &trace) {
  for (const auto& h : kHosts) {
    (void)network.add_host(h.name, h.address);
    dns.set(h.name, {.a = {h.address}});
  }
  dns.set("example.org", {.mx = {{10, "mx.example.org"}}});
  sim::DnsRecords net{.mx = {{10, "mx1.example.net"}}};
  if (o.backup_mx) net.mx.push_back({20, "mx2.example.net"});
  dns.set("example.net", net);

  laptop = std::make_unique<Mua>(context("laptop.example.org"),
                                 MuaSettings{.msa_host = "submit.example.org",
                                             .msa_address = network.address_of("submit.example.org"),
                                             .credentials = smtp::ClientCredentials{"alice", "wonderland"}});

  MtaSettings msa_settings;
  msa_settings.agent_name = "msa";
  msa_settings.port = 587;
  msa_settings.submission = true;
  msa_settings.users = {{"alice", "wonderland"}};
  msa_settings.smarthost = "mx.example.org";
  msa = std::make_unique<Mta>(context("submit.example.org"), msa_settings);

  MtaSettings org;
  org.local_domains = {"example.org"};
  org.mda_host = "mail.example.org";
  org.mda_address = network.address_of("mail.example.org");
  org.relay_clients = {network.address_of("submit.example.org")};
  org_mx = std::make_unique<Mta>(context("mx.example.org"), org);

  MtaSettings net_mx;
  net_mx.local_domains = {"example.net"};
  net_mx.mda_host = "mail.example.net";
  net_mx.mda_address = network.address_of("mail.example.net");
  mx1 = std::make_unique<Mta>(context("mx1.example.net"), net_mx);
  // The backup MX queues for the domain and passes it to the primary (or the MDA).
  mx2 = std::make_unique<Mta>(context("mx2.example.net"), net_mx);

  net_mda = std::make_unique<Mda>(context("mail.example.net"),
                                  MdaSettings{.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {}}}});
  org_mda = std::make_unique<Mda>(context("mail.example.org"),
                                  MdaSettings{.domains = {"example.org"}, .users = {{"alice", {}}, {"postmaster", {}}}});
  for (auto* m : {msa.get(), org_mx.get(), mx1.get(), mx2.get()}) (void)m->start();
  (void)net_mda->start();
  (void)org_mda->start();
}

std::string MailWorld::send(std::vector<std::string> to, std::string subject, std::string body) {
  return laptop->submit(Submission{"alice@example.org", std::move(to), std::move(subject), std::move(body)});
}

}  // namespace smtplab::agents::testing
