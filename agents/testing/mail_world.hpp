// A small mail system for tests and benchmarks, built in code:
//
//   laptop.example.org (MUA) -> submit.example.org (MSA, 587, AUTH)
//     -> mx.example.org (MTA, smarthost for the MSA; MX for example.org)
//     -> MX of example.net: mx1.example.net (10), mx2.example.net (20)
//     -> mail.example.net (MDA: bob, carol)        bounces come back to
//                                                   mail.example.org (MDA: alice)
//
// MailWorld runs it in virtual time over in-process links; LoopbackMailWorld
// runs the very same agents on real loopback sockets in real time. Scenario
// files (scenarios/) build this kind of world from YAML.
#pragma once

#include <functional>
#include <optional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "agents/mda/mda.hpp"
#include "agents/mta/mta.hpp"
#include "agents/mua/mua.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/inprocess/sim_network.hpp"
#include "sim/loopback/loopback_network.hpp"
#include "sim/loopback/loopback_runtime.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents::testing {

// The agents of the chain, whatever they run on.
struct MailChain {
  std::unique_ptr<Mua> laptop;
  std::unique_ptr<Mta> msa;      // submit.example.org
  std::unique_ptr<Mta> org_mx;   // mx.example.org
  std::unique_ptr<Mta> mx1;      // mx1.example.net
  std::unique_ptr<Mta> mx2;      // mx2.example.net (backup MX)
  std::unique_ptr<Mda> net_mda;  // mail.example.net
  std::unique_ptr<Mda> org_mda;  // mail.example.org

  // alice@example.org sends to `to` through the whole chain.
  std::string send(std::vector<std::string> to, std::string subject = "Hello",
                   std::string body = "Hi Bob,\r\nsee you soon.\r\n");
};

// What building the chain needs from a world.
struct ChainEnvironment {
  sim::Clock& clock;
  sim::Network& network;
  sim::SimDns& dns;
  sim::Trace* trace;
  std::mt19937_64* rng;
  std::function<absl::Status(const std::string& host, const std::string& address)> add_host;
  bool backup_mx = true;
  ConnectionCacheSettings connection_cache;  // for the MUA and every MTA
};
void build_mail_chain(ChainEnvironment& env, MailChain& chain);

struct MailWorldOptions {
  std::uint64_t seed = 1;
  sim::TraceLevel trace_level = sim::TraceLevel::kFull;
  bool keep_trace = true;
  bool backup_mx = true;  // mx2.example.net as MX 20
  ConnectionCacheSettings connection_cache;  // for the MUA and every MTA
};

class MailWorld : public MailChain {
 public:
  explicit MailWorld(MailWorldOptions options = {});
  void run() { scheduler.run(); }
  void run_for(absl::Duration d) { scheduler.run_until(scheduler.now() + d); }
  HostContext context(const std::string& host);

  sim::Scheduler scheduler;
  sim::Trace trace;
  sim::SimNetwork network;
  sim::SimDns dns;
};

class LoopbackMailWorld : public MailChain {
 public:
  explicit LoopbackMailWorld(MailWorldOptions options = {});
  // Runs until `done()` holds (plus 300 ms for conversations to finish), or
  // until `limit` of real time passes; false on timeout.
  bool run_until(std::function<bool()> done, absl::Duration limit);

  sim::LoopbackRuntime runtime;
  sim::Trace trace;
  sim::LoopbackNetwork network;
  sim::SimDns dns;
  std::mt19937_64 rng;
};

}  // namespace smtplab::agents::testing
