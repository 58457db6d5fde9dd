// The client side of TLS as the command line asks for it (--starttls, --tls,
// --tls_verify, --tls_ca, --tls_server_name), for `send` and `conform`.
#pragma once

#include <cstdio>
#include <string>

#include "absl/status/statusor.h"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/tls/tls_channel.hpp"

namespace smtplab::cli {

struct ClientTlsChoice {
  smtp::ClientTlsMode starttls = smtp::ClientTlsMode::kNone;
  bool implicit = false;
  agents::ClientTlsOptions options;  // context null when TLS was not asked for
};

// `host` is the server's host from --server, the default certificate name.
absl::StatusOr<ClientTlsChoice> client_tls_from_flags(const std::string& host);

// Prints a handshake as swaks does ("=== TLS started with cipher ...") plus
// the certificate and its verification.
void print_handshake(std::FILE* out, const tls::HandshakeReport& report);

}  // namespace smtplab::cli
