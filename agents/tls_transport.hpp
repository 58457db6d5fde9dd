// The byte path of one SMTP connection: plaintext until TLS starts (STARTTLS,
// or at once for implicit TLS), TLS records after. The endpoints read and
// write application bytes through it and never hold OpenSSL state
// themselves; the link below never knows TLS is there.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/tls/tls_channel.hpp"
#include "sim/connection.hpp"

namespace smtplab::agents {

class TlsTransport {
 public:
  explicit TlsTransport(sim::Connection& connection) : connection_(connection) {}

  // Application bytes to the peer: encrypted once TLS is on.
  void write(std::string_view bytes);
  // Bytes from the link in; the application bytes they carry out (none while
  // a handshake runs). Without TLS that is `raw` itself, not a copy; with
  // TLS a view of a buffer that the next read() reuses.
  std::string_view read(std::string_view raw);

  absl::Status start_client(std::shared_ptr<const tls::TlsContext> context, const std::string& server_name,
                            absl::Time check_time);
  absl::Status start_server(std::shared_ptr<const tls::TlsContext> context);

  bool started() const { return channel_ != nullptr; }
  bool handshaking() const { return channel_ && channel_->state() == tls::TlsChannel::State::kHandshaking; }
  bool secure() const { return channel_ && channel_->state() == tls::TlsChannel::State::kEstablished; }
  bool failed() const { return channel_ && channel_->state() == tls::TlsChannel::State::kFailed; }
  const tls::HandshakeReport& report() const;

  // Sends close_notify when TLS is up, then closes the link.
  void close();

 private:
  void flush();
  sim::Connection& connection_;
  std::unique_ptr<tls::TlsChannel> channel_;
  std::string plaintext_;  // what read() last decrypted
};

}  // namespace smtplab::agents
