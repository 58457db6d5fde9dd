#include "agents/smtp_client_endpoint.hpp"

#include "absl/strings/str_cat.h"

namespace smtplab::agents {

using Waiting = smtp::ClientSession::Waiting;

SmtpClientEndpoint::SmtpClientEndpoint(smtp::ClientSession& session, ClientTimeouts timeouts,
                                       std::function<void(std::string_view)> on_done)
    : session_(session), timeouts_(timeouts), on_done_(std::move(on_done)) {}

absl::Duration SmtpClientEndpoint::timeout_for_state() const {
  switch (session_.waiting()) {
    case Waiting::kGreeting: return timeouts_.greeting;
    case Waiting::kMail: return timeouts_.mail;
    case Waiting::kRcpt: return timeouts_.rcpt;
    case Waiting::kDataInit: return timeouts_.data_init;
    case Waiting::kDataEnd:
    case Waiting::kBdat: return timeouts_.data_end;
    default: return timeouts_.other;
  }
}

void SmtpClientEndpoint::on_open(sim::Connection& connection) {
  connection_ = &connection;
  flush();
}

void SmtpClientEndpoint::on_bytes(std::string_view bytes) {
  session_.receive(bytes);
  flush();
}

void SmtpClientEndpoint::on_timeout() {
  session_.connection_closed("timed out waiting for the server (RFC 5321 4.5.3.2)");
}

void SmtpClientEndpoint::on_closed(std::string_view why) {
  connection_ = nullptr;
  session_.connection_closed(why);
  if (on_done_) {
    auto done = std::move(on_done_);
    done(why);
  }
}

void SmtpClientEndpoint::flush() {
  if (connection_ == nullptr) return;
  if (session_.has_output()) connection_->send(session_.take_output());
  if (session_.awaiting_tls()) {
    // TLS over links arrives with the TLS work; until then, refuse politely.
    session_.connection_closed("STARTTLS accepted but this link has no TLS yet");
  }
  if (session_.done()) {
    connection_->close();
    return;
  }
  connection_->set_timeout(timeout_for_state());
}

}  // namespace smtplab::agents
