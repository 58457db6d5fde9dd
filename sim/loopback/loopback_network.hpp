// The simulator's hosts on real sockets: each host gets its own loopback
// address (127.0.0.10, 127.0.0.11, ...), each of its listeners a free port,
// and connections go through the kernel's TCP. Agents keep using the
// addresses the world gave them (192.0.2.10...): this class translates both
// ways, so traces name the same addresses in both worlds.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "sim/loopback/loopback_runtime.hpp"
#include "sim/network.hpp"

namespace smtplab::sim {

class LoopbackNetwork : public Network {
 public:
  explicit LoopbackNetwork(LoopbackRuntime& runtime) : runtime_(runtime) {}

  // `address` is the world's address for the host; a 127.0.0.x is assigned.
  absl::Status add_host(const std::string& name, const std::string& address);
  absl::Status listen(const std::string& host, int port, HandlerFactory factory) override;
  void connect(const std::string& from_host, const std::string& address, int port,
               std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) override;

  // The real 127.0.0.x:port where a host's listener is (to point swaks at it).
  std::pair<std::string, int> real_endpoint(const std::string& host, int port) const;

  // "127.0.0.12:4711" -> "192.0.2.10:4711".
  std::string to_world(const std::string& real_endpoint) const;

 private:
  LoopbackRuntime& runtime_;
  std::map<std::string, std::string> address_of_host_;  // name -> world address
  std::map<std::string, std::string> host_of_address_;  // world address -> name
  std::map<std::string, std::string> real_of_world_;    // world address -> 127.0.0.x
  std::map<std::string, std::string> world_of_real_;
  std::map<std::pair<std::string, int>, int> ports_;    // (world address, port) -> real port
  int next_octet_ = 10;
};

}  // namespace smtplab::sim
