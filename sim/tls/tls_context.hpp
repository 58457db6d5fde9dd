// An OpenSSL SSL_CTX configured for one side of SMTP over TLS: a server with
// its certificate, or a client with the CAs it trusts. Shared (read-only) by
// every connection of an agent; making one per connection would cost a key
// load each time.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "sim/tls/certificate_authority.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace smtplab::tls {

enum class TlsVersion { k1_0, k1_1, k1_2, k1_3 };

// Parses "1.0", "1.1", "1.2", "1.3" (also "TLSv1.2").
std::optional<TlsVersion> parse_tls_version(std::string_view text);
std::string_view tls_version_name(TlsVersion version);

struct TlsServerSettings {
  Credentials credentials;
  TlsVersion min_version = TlsVersion::k1_2;
  TlsVersion max_version = TlsVersion::k1_3;
  std::string ciphers_tls12;  // OpenSSL cipher list for TLS 1.2 and older; "" = OpenSSL's default
};

struct TlsClientSettings {
  std::string trusted_roots_pem;  // CA certificates the client trusts; "" = none
  bool system_roots = false;      // also trust the system's CA store (for real servers)
  TlsVersion min_version = TlsVersion::k1_2;
  TlsVersion max_version = TlsVersion::k1_3;
  std::string ciphers_tls12;
};

class TlsContext {
 public:
  static absl::StatusOr<std::shared_ptr<const TlsContext>> server(const TlsServerSettings& settings);
  static absl::StatusOr<std::shared_ptr<const TlsContext>> client(const TlsClientSettings& settings);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  bool is_server() const { return is_server_; }
  SSL_CTX* native() const { return ctx_; }

 private:
  TlsContext(SSL_CTX* ctx, bool is_server) : ctx_(ctx), is_server_(is_server) {}
  SSL_CTX* ctx_;
  bool is_server_;
};

}  // namespace smtplab::tls
