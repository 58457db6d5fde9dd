// The simulator's hosts on real sockets: each host gets its own loopback
// address (127.0.0.10, 127.0.0.11, ...), each of its listeners a port, and
// connections go through the kernel's TCP. Agents keep using the addresses
// the world gave them (192.0.2.10...): this class translates both ways, so
// traces name the same addresses in both worlds.
//
// With a trace it records what SimNetwork records about connections
// (conn.open, conn.close, conn.reset, conn.timeout, conn.refused) and the
// scenario faults it can play on real sockets: a host going down or up and a
// partition between two hosts, both applied when a connection is made (and a
// host going down closes the connections it has).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "sim/loopback/loopback_runtime.hpp"
#include "sim/network.hpp"
#include "sim/trace/trace.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::sim {

struct LoopbackNetworkSettings {
  // Listener ports: the world's port plus this (25 -> 10025, 587 -> 10587),
  // so a person can point swaks at a port that stays the same from run to
  // run. 0: the kernel picks a free port for each listener.
  int port_offset = 0;
};

class LoopbackNetwork : public Network {
 public:
  explicit LoopbackNetwork(LoopbackRuntime& runtime, Trace* trace = nullptr, LoopbackNetworkSettings settings = {})
      : runtime_(runtime), trace_(trace), settings_(settings) {}

  // `address` is the world's address for the host; a 127.0.0.x is assigned.
  absl::Status add_host(const std::string& name, const std::string& address);
  absl::Status listen(const std::string& host, int port, HandlerFactory factory) override;
  void connect(const std::string& from_host, const std::string& address, int port,
               std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) override;

  // Faults, as SimNetwork has them. A down host accepts nothing (its
  // listeners close new connections at once), its connections are closed and
  // connections from or to it time out; partitioned hosts' connections to
  // each other time out. Bytes already on an open connection still flow: the
  // kernel's TCP on loopback cannot be held back.
  void set_host_up(const std::string& host, bool up);
  void partition(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);

  // The real 127.0.0.x:port where a host's listener is (to point swaks at it).
  std::pair<std::string, int> real_endpoint(const std::string& host, int port) const;
  // Every listener: (host, world port) -> real "127.0.0.x:port".
  std::map<std::pair<std::string, int>, std::string> listeners() const;

  std::string address_of(const std::string& host) const;
  // "127.0.0.12:4711" -> "192.0.2.10:4711".
  std::string to_world(const std::string& real_endpoint) const;
  // The host name for a world endpoint; for a client from outside the world
  // (swaks on 127.0.0.1) its IP address, the same for all its connections.
  std::string host_of_endpoint(const std::string& world_endpoint) const;

  std::size_t open_connections() const { return open_.size(); }

  // Tells `observer` (null: nobody) what crosses the wire on every
  // connection to a world host, seen from the server's end (`--pcap`):
  // connections opened from now on.
  void set_wire_observer(WireObserver* observer) { wire_ = observer; }

 private:
  class ServerSide;  // wraps each accepted connection's handler (the .cpp)
  void opened(std::uint64_t id, const std::string& client, const std::string& server, Connection* server_side);
  void closed(std::uint64_t id, std::string_view why);
  void record(EventKind kind, const std::string& host, const std::string& peer, std::uint64_t connection,
              std::string text);
  bool reachable(const std::string& a, const std::string& b) const;
  void fail_later(std::unique_ptr<ConnectionHandler> handler, absl::Duration after, std::string why,
                  EventKind kind, const std::string& from_host, const std::string& to_host);

  struct OpenConnection {
    std::string client, server;
    Connection* server_side;
  };

  LoopbackRuntime& runtime_;
  Trace* trace_;
  LoopbackNetworkSettings settings_;
  std::map<std::string, std::string> address_of_host_;  // name -> world address
  std::map<std::string, std::string> host_of_address_;  // world address -> name
  std::map<std::string, std::string> real_of_world_;    // world address -> 127.0.0.x
  std::map<std::string, std::string> world_of_real_;
  std::map<std::pair<std::string, int>, int> ports_;    // (world address, port) -> real port
  std::map<std::pair<std::string, int>, int> world_port_of_real_;  // (world address, real port) -> port
  std::set<std::string> down_;
  std::set<std::pair<std::string, std::string>> partitions_;
  std::map<std::uint64_t, OpenConnection> open_;
  int next_octet_ = 10;
  WireObserver* wire_ = nullptr;
};

}  // namespace smtplab::sim
