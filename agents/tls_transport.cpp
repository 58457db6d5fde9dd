#include "agents/tls_transport.hpp"

namespace smtplab::agents {

void TlsTransport::write(std::string_view bytes) {
  if (!channel_) {
    connection_.send(bytes);
    return;
  }
  channel_->send(bytes);
  flush();
}

std::string_view TlsTransport::read(std::string_view raw) {
  if (!channel_) return raw;
  channel_->receive(raw);
  flush();  // handshake messages, alerts
  plaintext_ = channel_->take_plaintext();
  return plaintext_;
}

absl::Status TlsTransport::start_client(std::shared_ptr<const tls::TlsContext> context, const std::string& server_name,
                                        absl::Time check_time) {
  auto channel = tls::TlsChannel::client(std::move(context), server_name, check_time);
  if (!channel.ok()) return channel.status();
  channel_ = std::move(*channel);
  flush();  // the ClientHello
  return absl::OkStatus();
}

absl::Status TlsTransport::start_server(std::shared_ptr<const tls::TlsContext> context) {
  auto channel = tls::TlsChannel::server(std::move(context));
  if (!channel.ok()) return channel.status();
  channel_ = std::move(*channel);
  return absl::OkStatus();
}

const tls::HandshakeReport& TlsTransport::report() const {
  static const tls::HandshakeReport kNone;
  return channel_ ? channel_->report() : kNone;
}

void TlsTransport::close() {
  if (channel_) {
    channel_->close();
    flush();
  }
  connection_.close();
}

void TlsTransport::flush() {
  if (channel_ && channel_->has_ciphertext()) connection_.send(channel_->take_ciphertext());
}

}  // namespace smtplab::agents
