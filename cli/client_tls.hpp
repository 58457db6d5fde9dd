// The client side of TLS as the command line asks for it (--starttls, --tls,
// --tls_verify, --tls_ca, --tls_server_name), for `send` and `conform`.
#pragma once

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "sim/tls/tls_channel.hpp"

namespace smtplab::cli {

struct ClientTlsChoice {
  smtp::ClientTlsMode starttls = smtp::ClientTlsMode::kNone;
  bool implicit = false;
  agents::ClientTlsOptions options;  // context null when TLS was not asked for
};

// `host` is the server's host from --server, the default certificate name.
// `always`: make the TLS context even without --starttls/--tls, accepting
// TLS 1.0 and 1.1 too (conform checks the upgrade itself and reports old
// versions rather than failing to connect).
absl::StatusOr<ClientTlsChoice> client_tls_from_flags(const std::string& host, bool always = false);

// Prints a handshake as swaks does ("=== TLS started with cipher ...") plus
// the certificate and its verification.
void print_handshake(std::FILE* out, const tls::HandshakeReport& report);

}  // namespace smtplab::cli
