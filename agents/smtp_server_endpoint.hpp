// Runs a ServerSession over any sim::Connection: the glue between the
// sans-I/O engine and a link. The same class serves loopback sockets and
// in-process links.
#pragma once

#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "agents/smtp/server_session.hpp"
#include "sim/connection.hpp"

namespace smtplab::agents {

struct ServerEndpointSettings {
  smtp::ServerSettings session;
  absl::Duration idle_timeout = absl::Minutes(5);  // RFC 5321 4.5.3.2.7
};

class SmtpServerEndpoint : public sim::ConnectionHandler {
 public:
  // A `refusal` (e.g. 421 for too many connections) replaces the greeting.
  SmtpServerEndpoint(smtp::ServerPolicy& policy, const ServerEndpointSettings& settings,
                     const sim::ConnectionInfo& info, std::unique_ptr<smtp::SessionObserver> observer = nullptr,
                     std::optional<smtp::Reply> refusal = std::nullopt);

  void on_open(sim::Connection& connection) override;
  void on_bytes(std::string_view bytes) override;
  void on_timeout() override;
  void on_closed(std::string_view why) override;

 private:
  void flush();

  std::unique_ptr<smtp::SessionObserver> observer_;
  smtp::ServerSession session_;
  absl::Duration idle_timeout_;
  std::optional<smtp::Reply> refusal_;
  sim::Connection* connection_ = nullptr;
};

}  // namespace smtplab::agents
