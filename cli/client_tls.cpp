#include "cli/client_tls.hpp"

#include <fstream>
#include <iterator>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/common_flags.hpp"

namespace smtplab::cli {

absl::StatusOr<ClientTlsChoice> client_tls_from_flags(const std::string& host, bool always) {
  ClientTlsChoice choice;
  const bool starttls = absl::GetFlag(FLAGS_starttls);
  choice.implicit = absl::GetFlag(FLAGS_tls);
  if (starttls && choice.implicit) return absl::InvalidArgumentError("--starttls and --tls exclude each other");
  if (!starttls && !choice.implicit && !always) return choice;
  // Asking for TLS on the command line means it is required, as swaks --tls.
  if (starttls) choice.starttls = smtp::ClientTlsMode::kRequired;
  tls::TlsClientSettings settings;
  if (always) settings.min_version = tls::TlsVersion::k1_0;
  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    std::ifstream in(ca, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("--tls_ca: cannot read ", ca));
    settings.trusted_roots_pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    settings.system_roots = true;
  }
  auto context = tls::TlsContext::client(settings);
  if (!context.ok()) return absl::InvalidArgumentError(absl::StrCat("--tls_ca: ", context.status().message()));
  choice.options.context = *context;
  const std::string name = absl::GetFlag(FLAGS_tls_server_name);
  choice.options.server_name = name.empty() ? host : name;
  choice.options.require_verified = absl::GetFlag(FLAGS_tls_verify);
  return choice;
}

void print_handshake(std::FILE* out, const tls::HandshakeReport& r) {
  if (!r.error.empty()) {
    std::fprintf(out, "*** TLS handshake failed: %s\n", r.error.c_str());
    return;
  }
  std::fprintf(out, "=== TLS started with cipher %s:%s\n", r.version.c_str(), r.cipher.c_str());
  std::fprintf(out, "=== TLS peer certificate: subject=%s issuer=%s names=%s not_after=%s\n", r.peer_subject.c_str(),
               r.peer_issuer.c_str(), r.peer_names.c_str(), r.peer_not_after.c_str());
  std::fprintf(out, "=== TLS peer certificate %s%s\n", r.verified ? "verified" : "NOT verified: ",
               r.verified ? "" : r.verify_result.c_str());
  std::fflush(out);
}

}  // namespace smtplab::cli
