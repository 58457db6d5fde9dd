// Runs a ServerSession over any sim::Connection: the glue between the
// sans-I/O engine and a link. The same class serves loopback sockets and
// in-process links, with STARTTLS (RFC 3207) or implicit TLS (RFC 8314)
// when it is given a certificate.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "agents/connection_gate.hpp"
#include "agents/session_tap.hpp"
#include "agents/smtp/server_session.hpp"
#include "sim/tls/tls_context.hpp"
#include "agents/tls_transport.hpp"
#include "sim/connection.hpp"

namespace smtplab::agents {

// Told about each server-side handshake, finished or failed (report.error).
using ServerTlsObserver = std::function<void(const sim::ConnectionInfo&, const tls::HandshakeReport&)>;

// When a request must be complete within the timeout, rather than any byte
// restarting it (Postfix's smtpd_per_request_deadline).
enum class PerRequestDeadline {
  kNever,
  kUnderStress,  // Postfix's default: ${stress?{yes}:{no}}
  kAlways,
};

struct ServerEndpointSettings {
  smtp::ServerSettings session;
  absl::Duration idle_timeout = absl::Minutes(5);  // RFC 5321 4.5.3.2.7; Postfix smtpd_timeout
  // While the server is full (ConnectionGate::Stress): Postfix's
  // smtpd_timeout = ${stress?10}{300}.
  absl::Duration stress_idle_timeout = absl::Seconds(10);
  PerRequestDeadline per_request_deadline = PerRequestDeadline::kUnderStress;
  // Under a per-request deadline, each octet of DATA or BDAT text earns
  // 1/min_data_rate seconds (Postfix smtpd_min_data_rate, 500 octets/s), so
  // a large message at a fair rate finishes and a trickle does not.
  std::size_t min_data_rate = 500;
  // The server's certificate. With it, STARTTLS is offered (unless the
  // session settings turn it off); without it, there is no TLS at all.
  std::shared_ptr<const tls::TlsContext> tls;
  bool implicit_tls = false;  // RFC 8314: TLS from the first byte (port 465)
  ServerTlsObserver on_tls;
  // Tests only: makes one kind of broken server per connection (session_tap.hpp).
  std::function<std::unique_ptr<SessionTap>()> make_tap;
};

class SmtpServerEndpoint : public sim::ConnectionHandler {
 public:
  // A `refusal` (e.g. 421 for too many connections) replaces the greeting.
  SmtpServerEndpoint(smtp::ServerPolicy& policy, const ServerEndpointSettings& settings,
                     const sim::ConnectionInfo& info, std::unique_ptr<smtp::SessionObserver> observer = nullptr,
                     std::optional<smtp::Reply> refusal = std::nullopt);

  // Keeps the connection's slot at its gate taken until the endpoint goes,
  // and follows the gate's notices (stress, or close for a new client).
  void hold(ConnectionGate::Ticket ticket) { ticket_.emplace(std::move(ticket)); }

  // The reply that replaced the greeting, if the connection was refused.
  const std::optional<smtp::Reply>& refusal() const { return refusal_; }

  void on_open(sim::Connection& connection) override;
  void on_bytes(std::string_view bytes) override;
  void on_timeout() override;
  void on_closed(std::string_view why) override;

 private:
  static smtp::ServerSettings session_settings(const ServerEndpointSettings& settings);
  void flush();
  void handshake_over();
  // Runs on the connection's strand (through its sim::Waker).
  void on_notice(const ConnectionGate::Notice& notice);
  // The timeout and what restarts it, for the stress the gate last told.
  void apply_timeouts();

  std::unique_ptr<smtp::SessionObserver> observer_;
  smtp::ServerSession session_;
  absl::Duration idle_timeout_;
  absl::Duration stress_idle_timeout_;
  PerRequestDeadline per_request_deadline_;
  std::size_t min_data_rate_;
  bool stressed_ = false;
  bool per_request_ = false;  // the deadline in force counts per request
  std::optional<smtp::Reply> refusal_;
  std::shared_ptr<const tls::TlsContext> tls_;
  bool implicit_tls_;
  ServerTlsObserver on_tls_;
  sim::ConnectionInfo info_;
  sim::Connection* connection_ = nullptr;
  std::unique_ptr<TlsTransport> transport_;
  std::unique_ptr<SessionTap> tap_;
  std::optional<ConnectionGate::Ticket> ticket_;
};

// The endpoint for a new connection as `gate` decides: a session that holds
// its ticket, or, over a limit, one that says the gate's 421 and closes.
std::unique_ptr<SmtpServerEndpoint> admit_through(ConnectionGate& gate, smtp::ServerPolicy& policy,
                                                  const ServerEndpointSettings& settings,
                                                  const sim::ConnectionInfo& info,
                                                  std::unique_ptr<smtp::SessionObserver> observer = nullptr);

}  // namespace smtplab::agents
