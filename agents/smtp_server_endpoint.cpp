#include "agents/smtp_server_endpoint.hpp"

namespace smtplab::agents {

SmtpServerEndpoint::SmtpServerEndpoint(smtp::ServerPolicy& policy, const ServerEndpointSettings& settings,
                                       const sim::ConnectionInfo& info,
                                       std::unique_ptr<smtp::SessionObserver> observer,
                                       std::optional<smtp::Reply> refusal)
    : observer_(std::move(observer)),
      session_(policy, settings.session, info.peer_address, observer_.get()),
      idle_timeout_(settings.idle_timeout),
      refusal_(std::move(refusal)) {
  session_.set_connection_id(info.connection_id);
}

void SmtpServerEndpoint::on_open(sim::Connection& connection) {
  connection_ = &connection;
  connection.set_timeout(idle_timeout_);
  if (refusal_) {
    connection.send(refusal_->format());
    connection.close();
    return;
  }
  session_.start();
  flush();
}

void SmtpServerEndpoint::on_bytes(std::string_view bytes) {
  session_.receive(bytes);
  flush();
}

void SmtpServerEndpoint::on_timeout() {
  session_.timed_out();
  flush();
}

void SmtpServerEndpoint::on_closed(std::string_view) { connection_ = nullptr; }

void SmtpServerEndpoint::flush() {
  if (connection_ == nullptr) return;
  if (session_.has_output()) connection_->send(session_.take_output());
  // STARTTLS is only offered where the link can do TLS; a link without it
  // never gets here, but if it did, closing is the only safe answer.
  if (session_.wants_close() || session_.awaiting_tls()) connection_->close();
}

}  // namespace smtplab::agents
