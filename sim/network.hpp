// Hosts reach each other through a Network: in-process links in virtual time
// (SimNetwork), or real loopback sockets. Agents hold a Network& and never
// know which one it is.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/connection.hpp"

namespace smtplab::sim {

class Network {
 public:
  virtual ~Network() = default;
  // Accept connections to `host`:`port`; each gets a handler from `factory`.
  virtual absl::Status listen(const std::string& host, int port, HandlerFactory factory) = 0;
  // Connect from `from_host` to `address`:`port`; the handler gets on_open, or
  // on_closed with the reason ("refused", "timed out").
  virtual void connect(const std::string& from_host, const std::string& address, int port,
                       std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) = 0;
};

}  // namespace smtplab::sim
