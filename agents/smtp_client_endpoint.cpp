#include "agents/smtp_client_endpoint.hpp"

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

using Waiting = smtp::ClientSession::Waiting;

SmtpClientEndpoint::SmtpClientEndpoint(smtp::ClientSession& session, ClientTimeouts timeouts,
                                       std::function<void(std::string_view)> on_done, ClientTlsOptions tls)
    : session_(session), timeouts_(timeouts), on_done_(std::move(on_done)), tls_(std::move(tls)) {}

absl::Duration SmtpClientEndpoint::timeout_for_state() const {
  switch (session_.waiting()) {
    case Waiting::kGreeting: return timeouts_.greeting;
    case Waiting::kMail: return timeouts_.mail;
    case Waiting::kRcpt: return timeouts_.rcpt;
    case Waiting::kDataInit: return timeouts_.data_init;
    case Waiting::kDataEnd:
    case Waiting::kDataEndIgnored:
    case Waiting::kBdat: return timeouts_.data_end;
    case Waiting::kEhlo:
    case Waiting::kHelo:
    case Waiting::kStarttls:
    case Waiting::kAuth:
    case Waiting::kRset:
    case Waiting::kQuit:
    case Waiting::kIdle:
    case Waiting::kDone: return timeouts_.other;
  }
  return timeouts_.other;
}

void SmtpClientEndpoint::on_open(sim::Connection& connection) {
  connection_ = &connection;
  transport_ = std::make_unique<TlsTransport>(connection);
  if (session_.tls_active()) {
    // Implicit TLS (RFC 8314): the handshake comes before the greeting.
    start_tls();
    if (connection_ != nullptr) connection_->set_timeout(timeouts_.greeting);
    return;
  }
  flush();
}

void SmtpClientEndpoint::start_tls() {
  if (!tls_.context || tls_.clock == nullptr) {
    failure_ = "the server accepted STARTTLS but this client has no TLS configured";
    session_.connection_closed(failure_);
    connection_->close();
    return;
  }
  if (auto s = transport_->start_client(tls_.context, tls_.server_name, tls_.clock->wall_now()); !s.ok()) {
    failure_ = absl::StrCat("TLS could not start: ", s.message());
    session_.connection_closed(failure_);
    connection_->close();
  }
}

void SmtpClientEndpoint::on_bytes(std::string_view bytes) {
  if (transport_ == nullptr) return;
  const bool was_handshaking = transport_->handshaking();
  const std::string_view plain = transport_->read(bytes);
  if (was_handshaking && !transport_->handshaking()) {
    handshake_over(!session_.awaiting_tls());
    if (connection_ == nullptr || transport_->failed()) return;
  } else if (transport_->failed()) {
    failure_ = absl::StrCat("TLS failed: ", transport_->report().error);
    session_.connection_closed(failure_);
    connection_->close();
    return;
  }
  if (!plain.empty()) session_.receive(plain);
  report_transactions({});
  flush();
}

void SmtpClientEndpoint::report_transactions(std::string_view why) {
  if (!on_transaction_) return;
  // Index by index: the callback may enqueue more on the session.
  while (reported_ < session_.results().size() && session_.results()[reported_].done) {
    on_transaction_(reported_++, why);
  }
}

void SmtpClientEndpoint::handshake_over(bool implicit) {
  const tls::HandshakeReport& report = transport_->report();
  tls_handshake_failed_ = transport_->failed();
  if (tls_.on_handshake) tls_.on_handshake(report);
  if (transport_->failed()) {
    failure_ = absl::StrCat("TLS handshake with ", tls_.server_name, " failed: ", report.error);
    session_.connection_closed(failure_);
    connection_->close();
    return;
  }
  if (tls_.require_verified && !report.verified) {
    const std::string why = absl::StrCat("the certificate of ", tls_.server_name,
                                         " did not verify: ", report.verify_result);
    if (implicit) {
      failure_ = absl::StrCat("TLS required, but ", why);
      session_.connection_closed(failure_);
      transport_->close();
      return;
    }
    session_.tls_rejected(why);
    return;
  }
  if (!implicit) session_.tls_established();  // RFC 3207 4.2: EHLO again
}

void SmtpClientEndpoint::on_timeout() {
  session_.connection_closed("timed out waiting for the server (RFC 5321 4.5.3.2)");
}

void SmtpClientEndpoint::on_closed(std::string_view why) {
  connection_ = nullptr;
  session_.connection_closed(why);
  report_transactions(failure_.empty() ? why : std::string_view(failure_));
  if (on_done_) {
    auto done = std::move(on_done_);
    done(failure_.empty() ? why : std::string_view(failure_));
  }
}

void SmtpClientEndpoint::flush() {
  if (connection_ == nullptr || !failure_.empty()) return;
  if (session_.has_output()) transport_->write(session_.take_output());
  if (session_.awaiting_tls() && !transport_->started()) {
    start_tls();
    if (!failure_.empty()) return;
  }
  if (session_.done()) {
    transport_->close();
    return;
  }
  connection_->set_timeout(timeout_for_state());
}

}  // namespace smtplab::agents
