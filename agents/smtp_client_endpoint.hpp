// Runs a ClientSession over any sim::Connection, with the client timeouts of
// RFC 5321 4.5.3.2 chosen by what the session is waiting for.
#pragma once

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "agents/smtp/client_session.hpp"
#include "sim/connection.hpp"

namespace smtplab::agents {

// RFC 5321 4.5.3.2.1 to 4.5.3.2.6.
struct ClientTimeouts {
  absl::Duration greeting = absl::Minutes(5);
  absl::Duration mail = absl::Minutes(5);
  absl::Duration rcpt = absl::Minutes(5);
  absl::Duration data_init = absl::Minutes(2);
  absl::Duration data_end = absl::Minutes(10);
  absl::Duration other = absl::Minutes(5);
};

class SmtpClientEndpoint : public sim::ConnectionHandler {
 public:
  // `session` must outlive the connection; `on_done` runs once, at the end.
  SmtpClientEndpoint(smtp::ClientSession& session, ClientTimeouts timeouts,
                     std::function<void(std::string_view why)> on_done);

  void on_open(sim::Connection& connection) override;
  void on_bytes(std::string_view bytes) override;
  void on_timeout() override;
  void on_closed(std::string_view why) override;

 private:
  void flush();
  absl::Duration timeout_for_state() const;

  smtp::ClientSession& session_;
  ClientTimeouts timeouts_;
  std::function<void(std::string_view)> on_done_;
  sim::Connection* connection_ = nullptr;
};

}  // namespace smtplab::agents
