// TLS as a sans-I/O channel: real OpenSSL over memory BIOs. TLS records from
// the link go in with receive(); plaintext for the application comes out of
// take_plaintext(); plaintext to send goes in with send(); records for the
// link come out of take_ciphertext(). No sockets and no clocks: the same
// channel runs over in-process links in virtual time and over loopback TCP.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sim/tls/tls_context.hpp"

typedef struct ssl_st SSL;

namespace smtplab::tls {

// What a finished (or failed) handshake established, for the trace and the
// stepper. Certificate fields are the peer's, so a client sees the server's.
struct HandshakeReport {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  std::string peer_subject;
  std::string peer_issuer;
  std::string peer_names;      // subjectAltName DNS names, comma-separated
  std::string peer_not_after;  // "2026-12-01 00:00:00 UTC"
  // Client only: whether the server's certificate chains to a trusted root,
  // is valid at the check time and names the expected host.
  bool verified = false;
  std::string verify_result;  // "ok", or OpenSSL's reason ("certificate has expired")
  std::string error;          // handshake failure reason, when it failed
};

class TlsChannel {
 public:
  enum class State { kHandshaking, kEstablished, kFailed, kClosed };

  // A client that expects a certificate for `server_name` (also sent as SNI),
  // valid at `check_time` (the run's virtual wall-clock time).
  static absl::StatusOr<std::unique_ptr<TlsChannel>> client(std::shared_ptr<const TlsContext> context,
                                                            const std::string& server_name, absl::Time check_time);
  static absl::StatusOr<std::unique_ptr<TlsChannel>> server(std::shared_ptr<const TlsContext> context);
  ~TlsChannel();

  // TLS records that arrived from the link.
  void receive(std::string_view ciphertext);
  // Application bytes to protect; held until the handshake is done.
  void send(std::string_view plaintext);
  // Sends close_notify.
  void close();

  std::string take_ciphertext();
  bool has_ciphertext() const;
  std::string take_plaintext();
  bool has_plaintext() const { return !plaintext_.empty(); }

  State state() const { return state_; }
  const HandshakeReport& report() const { return report_; }

 private:
  TlsChannel(std::shared_ptr<const TlsContext> context, SSL* ssl, bool is_client);
  void advance();
  void fail(std::string why);
  void fill_report();

  std::shared_ptr<const TlsContext> context_;
  SSL* ssl_;
  bool is_client_;
  State state_ = State::kHandshaking;
  std::string pending_plaintext_;  // sent before the handshake finished
  std::string plaintext_;
  HandshakeReport report_;
};

}  // namespace smtplab::tls
