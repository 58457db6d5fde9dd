// A small simulated mail system for tests and benchmarks, built in code:
//
//   laptop.example.org (MUA) -> submit.example.org (MSA, 587, AUTH)
//     -> mx.example.org (MTA, smarthost for the MSA; MX for example.org)
//     -> MX of example.net: mx1.example.net (10), mx2.example.net (20)
//     -> mail.example.net (MDA: bob, carol)        bounces come back to
//                                                   mail.example.org (MDA: alice)
//
// Every piece is reachable so a test can bend it: DNS records, hosts going
// down, policies on an MTA. Scenario files (scenarios/) build the same kind
// of world from YAML.
#pragma once

#include <memory>
#include <string>

#include "agents/mda/mda.hpp"
#include "agents/mta/mta.hpp"
#include "agents/mua/mua.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents::testing {

struct MailWorldOptions {
  std::uint64_t seed = 1;
  sim::TraceLevel trace_level = sim::TraceLevel::kFull;
  bool keep_trace = true;
  bool backup_mx = true;  // mx2.example.net as MX 20
};

class MailWorld {
 public:
  explicit MailWorld(MailWorldOptions options = {});

  // alice@example.org sends to `to` through the whole chain.
  std::string send(std::vector<std::string> to, std::string subject = "Hello",
                   std::string body = "Hi Bob,\r\nsee you soon.\r\n");
  void run() { scheduler.run(); }
  void run_for(absl::Duration d) { scheduler.run_until(scheduler.now() + d); }

  HostContext context(const std::string& host);

  sim::Scheduler scheduler;
  sim::Trace trace;
  sim::SimNetwork network;
  sim::SimDns dns;
  std::unique_ptr<Mua> laptop;
  std::unique_ptr<Mta> msa;       // submit.example.org
  std::unique_ptr<Mta> org_mx;    // mx.example.org
  std::unique_ptr<Mta> mx1;       // mx1.example.net
  std::unique_ptr<Mta> mx2;       // mx2.example.net (backup MX)
  std::unique_ptr<Mda> net_mda;   // mail.example.net
  std::unique_ptr<Mda> org_mda;   // mail.example.org
};

}  // namespace smtplab::agents::testing
