// `--keylog FILE`: the secrets of every TLS session this process makes, one
// line each in the NSS key log format (CLIENT_RANDOM for TLS 1.2; the
// CLIENT_HANDSHAKE_TRAFFIC_SECRET ... lines of TLS 1.3), which Wireshark
// reads with tls.keylog_file to decrypt a capture. OpenSSL hands each line
// to the callback every TlsContext installs; without an open log it does
// nothing. Process-wide, like the SSLKEYLOGFILE of browsers and curl.
#pragma once

#include <string>

#include "absl/status/status.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace smtplab::tls {

// Appends to `path` (made if missing) from now on.
absl::Status open_key_log(const std::string& path);
// Closes it; the error of the last write or of closing, if any.
absl::Status close_key_log();
// How many lines have been written since the log was opened.
std::size_t key_log_lines();

// Installs the callback on `ctx` (TlsContext does, for every context).
void attach_key_log(SSL_CTX* ctx);

}  // namespace smtplab::tls
