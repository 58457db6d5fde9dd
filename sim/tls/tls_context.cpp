#include "sim/tls/tls_context.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "sim/tls/key_log.hpp"
#include "sim/tls/openssl_handles.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::tls {
namespace {

int openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::k1_0: return TLS1_VERSION;
    case TlsVersion::k1_1: return TLS1_1_VERSION;
    case TlsVersion::k1_2: return TLS1_2_VERSION;
    case TlsVersion::k1_3: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

absl::Status apply_protocol(SSL_CTX* ctx, TlsVersion min, TlsVersion max, const std::string& ciphers) {
  if (openssl_version(min) > openssl_version(max)) {
    return absl::InvalidArgumentError(absl::StrCat("TLS min_version ", av(tls_version_name(min)),
                                                   " is above max_version ", av(tls_version_name(max))));
  }
  // TLS 1.0 and 1.1 need security level 0 in OpenSSL 3; a lesson may ask for them.
  if (min < TlsVersion::k1_2) SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, openssl_version(min));
  SSL_CTX_set_max_proto_version(ctx, openssl_version(max));
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("no usable cipher in '", ciphers, "': ", drain_openssl_errors()));
  }
  // The ticket a TLS 1.3 server sends after the handshake would be dead
  // weight: connections are never resumed.
  SSL_CTX_set_num_tickets(ctx, 0);
  return absl::OkStatus();
}

}  // namespace

std::optional<TlsVersion> parse_tls_version(std::string_view text) {
  std::string t = absl::AsciiStrToLower(av(text));
  if (t.rfind("tlsv", 0) == 0) t = t.substr(4);
  if (t == "1.0" || t == "1") return TlsVersion::k1_0;
  if (t == "1.1") return TlsVersion::k1_1;
  if (t == "1.2") return TlsVersion::k1_2;
  if (t == "1.3") return TlsVersion::k1_3;
  return std::nullopt;
}

std::string_view tls_version_name(TlsVersion version) {
  switch (version) {
    case TlsVersion::k1_0: return "TLSv1";
    case TlsVersion::k1_1: return "TLSv1.1";
    case TlsVersion::k1_2: return "TLSv1.2";
    case TlsVersion::k1_3: return "TLSv1.3";
  }
  return "?";
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::server(const TlsServerSettings& settings) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", drain_openssl_errors()));
  if (auto s = apply_protocol(ctx.get(), settings.min_version, settings.max_version, settings.ciphers_tls12); !s.ok())
    return s;
  BioPtr cert_bio(BIO_new_mem_buf(settings.credentials.certificate_pem.data(),
                                  static_cast<int>(settings.credentials.certificate_pem.size())));
  X509Ptr leaf(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load the certificate: ", drain_openssl_errors()));
  }
  // Any further certificates are the chain sent after the leaf.
  while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(ctx.get(), extra);
  }
  drain_openssl_errors();  // the end of the PEM list is reported as an error
  BioPtr key_bio(BIO_new_mem_buf(settings.credentials.private_key_pem.data(),
                                 static_cast<int>(settings.credentials.private_key_pem.size())));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key || SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("cannot load the private key: ", drain_openssl_errors()));
  }
  attach_key_log(ctx.get());
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx.release(), true));
}

absl::StatusOr<std::shared_ptr<const TlsContext>> TlsContext::client(const TlsClientSettings& settings) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError(absl::StrCat("SSL_CTX_new: ", drain_openssl_errors()));
  if (auto s = apply_protocol(ctx.get(), settings.min_version, settings.max_version, settings.ciphers_tls12); !s.ok())
    return s;
  // The handshake always completes; the owner reads the verification result
  // and decides, as a real MTA does under its TLS policy (opportunistic TLS
  // delivers to a bad certificate, required TLS does not).
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (settings.system_roots) SSL_CTX_set_default_verify_paths(ctx.get());
  if (!settings.trusted_roots_pem.empty()) {
    BioPtr bio(BIO_new_mem_buf(settings.trusted_roots_pem.data(), static_cast<int>(settings.trusted_roots_pem.size())));
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    int added = 0;
    while (X509Ptr root{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
      X509_STORE_add_cert(store, root.get());
      ++added;
    }
    drain_openssl_errors();
    if (added == 0) return absl::InvalidArgumentError("no certificate in the trusted roots");
  }
  attach_key_log(ctx.get());
  return std::shared_ptr<const TlsContext>(new TlsContext(ctx.release(), false));
}

}  // namespace smtplab::tls
