// What an agent is given about the world it runs in: its host's name and
// address, the clock, the network, DNS and the trace. The same agent runs in
// the simulator (virtual clock, in-process links) or on loopback sockets.
#pragma once

#include <random>
#include <string>

#include "sim/clock.hpp"
#include "sim/dns/sim_dns.hpp"
#include "sim/network.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents {

struct HostContext {
  std::string host;     // "mx.example.net"
  std::string address;  // its address on the network
  sim::Clock& clock;
  sim::Network& network;
  sim::SimDns* dns = nullptr;       // needed by MTAs that route by MX
  sim::Trace* trace = nullptr;      // may be null: nothing is recorded
  std::mt19937_64* rng = nullptr;   // for choices RFCs leave to chance (equal MX preferences)
};

}  // namespace smtplab::agents
