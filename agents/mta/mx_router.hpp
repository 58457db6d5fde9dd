// Where to send mail for a domain (RFC 5321 5.1): its MX hosts by preference,
// equal preferences in random order; the domain itself when it has no MX but
// has an address (the implicit MX); nothing at all for a null MX (RFC 7505).
// NXDOMAIN is permanent; SERVFAIL and timeouts are temporary.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "agents/smtp/reply.hpp"
#include "sim/dns/sim_dns.hpp"

namespace smtplab::agents {

struct NextHop {
  std::string host;     // the MX host's name
  std::string address;  // its address
  int preference = 0;
};

struct Route {
  enum class Kind { kHops, kPermanentFailure, kTemporaryFailure };
  Kind kind = Kind::kHops;
  std::vector<NextHop> hops;  // in the order to try them
  smtp::Reply failure;        // for the DSN or the deferral, when there are no hops
};

class MxRouter {
 public:
  MxRouter(sim::SimDns& dns, std::string asker, std::mt19937_64* rng) : dns_(dns), asker_(std::move(asker)), rng_(rng) {}
  void route(const std::string& domain, std::function<void(Route)> done);
  // A named host (a smarthost): its address, no MX lookup (Postfix "[host]").
  void route_to_host(const std::string& host, std::function<void(Route)> done);

 private:
  void resolve_hosts(std::vector<sim::MxRecord> mx, sim::DnsPurpose purpose, std::function<void(Route)> done);
  sim::SimDns& dns_;
  std::string asker_;
  std::mt19937_64* rng_;
};

}  // namespace smtplab::agents
