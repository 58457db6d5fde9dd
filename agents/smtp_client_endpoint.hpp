// Runs a ClientSession over any sim::Connection, with the client timeouts of
// RFC 5321 4.5.3.2 chosen by what the session is waiting for, and the TLS
// handshake when the session asks for it (STARTTLS) or from the first byte
// (implicit TLS).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agents/smtp/client_session.hpp"
#include "sim/tls/tls_context.hpp"
#include "agents/tls_transport.hpp"
#include "sim/clock.hpp"
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

// How this client does TLS on one connection.
struct ClientTlsOptions {
  std::shared_ptr<const tls::TlsContext> context;  // null: the client cannot do TLS
  std::string server_name;  // the name the certificate must carry (the MX host name)
  const sim::Clock* clock = nullptr;  // certificates are checked at its wall time (required with a context)
  // Refuse a session whose certificate does not verify (RFC 7672 DANE,
  // RFC 8461 MTA-STS enforce): the session quits with 4.7.5 before any mail.
  bool require_verified = false;
  // Told about the handshake, finished (check report.verified) or failed (report.error).
  std::function<void(const tls::HandshakeReport&)> on_handshake;
};

class SmtpClientEndpoint : public sim::ConnectionHandler {
 public:
  // `session` must outlive the connection; `on_done` runs once, at the end,
  // with why the connection ended (a TLS failure is named as such).
  SmtpClientEndpoint(smtp::ClientSession& session, ClientTimeouts timeouts,
                     std::function<void(std::string_view why)> on_done, ClientTlsOptions tls = {});

  // Told of each transaction as soon as it is over, in order, before
  // on_done: `index` is its place in session.results(); `why` is why the
  // connection ended when that is what ended the transaction, else empty.
  // A connection cache uses it to hand the session the next message.
  void on_transaction(std::function<void(std::size_t index, std::string_view why)> callback) {
    on_transaction_ = std::move(callback);
  }
  // Sends what the session has to say after its owner gave it more work
  // (enqueue() or finish() outside of this endpoint's own callbacks).
  void send_pending() { flush(); }
  // The TLS handshake on this connection failed (as opposed to the server
  // refusing STARTTLS or the connection failing otherwise).
  bool tls_handshake_failed() const { return tls_handshake_failed_; }

  void on_open(sim::Connection& connection) override;
  void on_bytes(std::string_view bytes) override;
  void on_timeout() override;
  void on_closed(std::string_view why) override;

 private:
  void flush();
  void report_transactions(std::string_view why);
  void start_tls();
  void handshake_over(bool implicit);
  absl::Duration timeout_for_state() const;

  smtp::ClientSession& session_;
  ClientTimeouts timeouts_;
  std::function<void(std::string_view)> on_done_;
  ClientTlsOptions tls_;
  sim::Connection* connection_ = nullptr;
  std::unique_ptr<TlsTransport> transport_;
  std::string failure_;  // a TLS failure that ended the connection
  std::function<void(std::size_t, std::string_view)> on_transaction_;
  std::size_t reported_ = 0;  // transactions already passed to on_transaction_
  bool tls_handshake_failed_ = false;
};

}  // namespace smtplab::agents
