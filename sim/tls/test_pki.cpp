#include "sim/tls/test_pki.hpp"

namespace smtplab::tls {

absl::StatusOr<TestPki> make_test_pki(const std::string& server_name, absl::Time now) {
  const absl::Duration year = absl::Hours(24 * 365);
  auto ca = CertificateAuthority::create("smtplab test CA", now - year, now + 2 * year);
  if (!ca.ok()) return ca.status();
  CertificateSpec spec;
  spec.names = {server_name};
  spec.not_before = now - year / 2;
  spec.not_after = now + year / 2;
  auto creds = ca->issue(spec);
  if (!creds.ok()) return creds.status();
  TestPki pki;
  pki.root_pem = ca->root_pem();
  pki.server = *creds;
  TlsServerSettings server;
  server.credentials = *creds;
  auto sctx = TlsContext::server(server);
  if (!sctx.ok()) return sctx.status();
  TlsClientSettings client;
  client.trusted_roots_pem = pki.root_pem;
  auto cctx = TlsContext::client(client);
  if (!cctx.ok()) return cctx.status();
  pki.server_context = *sctx;
  pki.client_context = *cctx;
  return pki;
}

}  // namespace smtplab::tls
