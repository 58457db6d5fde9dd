#include "agents/smtp_server_endpoint.hpp"

#include <algorithm>
#include <cstdint>
#include <variant>

namespace smtplab::agents {

smtp::ServerSettings SmtpServerEndpoint::session_settings(const ServerEndpointSettings& settings) {
  smtp::ServerSettings s = settings.session;
  // STARTTLS is only offered by a server that holds a certificate, and never
  // inside implicit TLS.
  if (!settings.tls || settings.implicit_tls) s.offer_starttls = false;
  s.implicit_tls = settings.tls != nullptr && settings.implicit_tls;
  return s;
}

SmtpServerEndpoint::SmtpServerEndpoint(smtp::ServerPolicy& policy, const ServerEndpointSettings& settings,
                                       const sim::ConnectionInfo& info,
                                       std::unique_ptr<smtp::SessionObserver> observer,
                                       std::optional<smtp::Reply> refusal)
    : observer_(std::move(observer)),
      session_(policy, session_settings(settings), info.peer_address, observer_.get()),
      idle_timeout_(settings.idle_timeout),
      stress_idle_timeout_(settings.stress_idle_timeout),
      per_request_deadline_(settings.per_request_deadline),
      min_data_rate_(std::max<std::size_t>(1, settings.min_data_rate)),
      refusal_(std::move(refusal)),
      tls_(settings.tls),
      implicit_tls_(settings.tls != nullptr && settings.implicit_tls),
      on_tls_(settings.on_tls),
      info_(info),
      tap_(settings.make_tap ? settings.make_tap() : nullptr) {
  session_.set_connection_id(info.connection_id);
}

void SmtpServerEndpoint::on_open(sim::Connection& connection) {
  connection_ = &connection;
  transport_ = std::make_unique<TlsTransport>(connection);
  if (ticket_) {
    stressed_ = ticket_->listen([waker = connection.waker(), this](const ConnectionGate::Notice& notice) {
      // From any thread: the endpoint is only touched on its own strand,
      // and the waker drops the task once the connection is gone.
      waker([this, notice] { on_notice(notice); });
    });
  }
  apply_timeouts();
  if (implicit_tls_) {
    // The greeting waits for the handshake (RFC 8314 3.3).
    if (auto s = transport_->start_server(tls_); !s.ok()) connection.close();
    return;
  }
  if (refusal_) {
    connection.send(refusal_->format());
    connection.close();
    return;
  }
  session_.start();
  flush();
}

void SmtpServerEndpoint::on_bytes(std::string_view bytes) {
  if (transport_ == nullptr) return;
  const bool was_handshaking = transport_->handshaking();
  const std::string_view plain = transport_->read(bytes);
  if (was_handshaking && !transport_->handshaking()) {
    handshake_over();
    if (connection_ == nullptr || transport_->failed()) return;
  } else if (transport_->failed()) {
    // A broken record inside TLS: nothing after it can be trusted.
    connection_->close();
    return;
  }
  if (!plain.empty()) {
    if (session_.reading_message()) {
      if (per_request_) {
        connection_->extend_timeout(absl::Seconds(static_cast<std::int64_t>(plain.size())) /
                                    static_cast<std::int64_t>(min_data_rate_));
      }
      if (ticket_) ticket_->note_progress();
    }
    if (tap_) {
      session_.receive(tap_->on_input(session_, plain));
    } else {
      session_.receive(plain);
    }
  }
  flush();
}

void SmtpServerEndpoint::handshake_over() {
  if (on_tls_) on_tls_(info_, transport_->report());
  if (transport_->failed()) {
    // Nothing can be said in plaintext any more: the client expects TLS.
    connection_->close();
    return;
  }
  if (implicit_tls_) {
    if (refusal_) {
      transport_->write(refusal_->format());
      transport_->close();
      return;
    }
    session_.start();
  } else {
    session_.tls_established();  // RFC 3207 4.2: forget everything, wait for EHLO
    if (tap_) tap_->after_tls(session_);
  }
}

void SmtpServerEndpoint::apply_timeouts() {
  per_request_ = per_request_deadline_ == PerRequestDeadline::kAlways ||
                 (per_request_deadline_ == PerRequestDeadline::kUnderStress && stressed_);
  connection_->set_timeout_clock(per_request_ ? sim::TimeoutClock::kPerRequest : sim::TimeoutClock::kIdle);
  connection_->set_timeout(stressed_ ? stress_idle_timeout_ : idle_timeout_);
}

void SmtpServerEndpoint::on_notice(const ConnectionGate::Notice& notice) {
  if (connection_ == nullptr) return;
  if (const auto* stress = std::get_if<ConnectionGate::Stress>(&notice)) {
    stressed_ = stress->on;
    apply_timeouts();
    return;
  }
  // Our slot went to a new client: say so (RFC 5321 3.8) and close.
  session_.close_with(std::get<smtp::Reply>(notice));
  flush();
}

void SmtpServerEndpoint::on_timeout() {
  session_.timed_out();
  flush();
}

void SmtpServerEndpoint::on_closed(std::string_view) { connection_ = nullptr; }

void SmtpServerEndpoint::flush() {
  if (connection_ == nullptr) return;
  if (session_.has_output()) {
    if (ticket_) ticket_->note_progress();  // a reply: the session is not idle
    transport_->write(tap_ ? tap_->on_output(session_, session_.take_output()) : session_.take_output());
  }
  if (session_.wants_close()) {
    transport_->close();
    return;
  }
  if (session_.awaiting_commit()) {
    // A group commit answers on its own thread: the reply comes back to this
    // connection's strand, and is dropped if the connection has gone.
    session_.start_commit([waker = connection_->waker(), this](smtp::Reply reply) {
      waker([this, reply = std::move(reply)]() mutable {
        session_.commit_finished(std::move(reply));
        flush();
      });
    });
  }
  if (session_.awaiting_tls() && !transport_->started()) {
    // The 220 went out in plaintext above; what follows is the handshake.
    // The session only offers STARTTLS with a certificate, so tls_ is set.
    if (!tls_ || !transport_->start_server(tls_).ok()) connection_->close();
  }
}

std::unique_ptr<SmtpServerEndpoint> admit_through(ConnectionGate& gate, smtp::ServerPolicy& policy,
                                                  const ServerEndpointSettings& settings,
                                                  const sim::ConnectionInfo& info,
                                                  std::unique_ptr<smtp::SessionObserver> observer) {
  ConnectionGate::Admission admission = gate.admit(sim::address_part(info.peer_address));
  if (auto* refusal = std::get_if<smtp::Reply>(&admission)) {
    return std::make_unique<SmtpServerEndpoint>(policy, settings, info, std::move(observer), *refusal);
  }
  auto endpoint = std::make_unique<SmtpServerEndpoint>(policy, settings, info, std::move(observer));
  endpoint->hold(std::get<ConnectionGate::Ticket>(std::move(admission)));
  return endpoint;
}

}  // namespace smtplab::agents
