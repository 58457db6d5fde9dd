#include "sim/tls/tls_channel.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/tls/openssl_handles.hpp"

namespace smtplab::tls {
namespace {

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_contents(bio.get());
}

std::string time_text(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string dns_names(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "";
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == 4) {
      const unsigned char* a = ASN1_STRING_get0_data(n->d.iPAddress);
      out.push_back(absl::StrCat(a[0], ".", a[1], ".", a[2], ".", a[3]));
      continue;
    }
    if (n->type != GEN_DNS) continue;
    const unsigned char* data = ASN1_STRING_get0_data(n->d.dNSName);
    out.emplace_back(reinterpret_cast<const char*>(data), static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
  }
  GENERAL_NAMES_free(names);
  return absl::StrJoin(out, ", ");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsChannel>> TlsChannel::client(std::shared_ptr<const TlsContext> context,
                                                               const std::string& server_name,
                                                               absl::Time check_time) {
  if (!context || context->is_server()) return absl::InvalidArgumentError("a TLS client needs a client context");
  SSL* ssl = SSL_new(context->native());
  if (ssl == nullptr) return absl::InternalError(absl::StrCat("SSL_new: ", drain_openssl_errors()));
  // SNI, and the name the certificate must carry (RFC 6125; RFC 7672 3.2.2).
  // An address literal is checked against IP entries and never sent as SNI
  // (RFC 6066 3).
  if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name.c_str()) != 1) {
    ERR_clear_error();
    SSL_set_tlsext_host_name(ssl, server_name.c_str());
    SSL_set1_host(ssl, server_name.c_str());
  }
  // Certificate validity is judged at the run's (virtual) time, so "expired"
  // means expired in the scenario's world.
  X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), absl::ToTimeT(check_time));
  SSL_set_connect_state(ssl);
  auto channel = std::unique_ptr<TlsChannel>(new TlsChannel(std::move(context), ssl, true));
  channel->advance();  // the ClientHello
  return channel;
}

absl::StatusOr<std::unique_ptr<TlsChannel>> TlsChannel::server(std::shared_ptr<const TlsContext> context) {
  if (!context || !context->is_server()) return absl::InvalidArgumentError("a TLS server needs a server context");
  SSL* ssl = SSL_new(context->native());
  if (ssl == nullptr) return absl::InternalError(absl::StrCat("SSL_new: ", drain_openssl_errors()));
  SSL_set_accept_state(ssl);
  return std::unique_ptr<TlsChannel>(new TlsChannel(std::move(context), ssl, false));
}

TlsChannel::TlsChannel(std::shared_ptr<const TlsContext> context, SSL* ssl, bool is_client)
    : context_(std::move(context)), ssl_(ssl), is_client_(is_client) {
  SSL_set_bio(ssl_, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));  // SSL owns both
}

TlsChannel::~TlsChannel() { SSL_free(ssl_); }

void TlsChannel::receive(std::string_view ciphertext) {
  if (state_ == State::kFailed || state_ == State::kClosed || ciphertext.empty()) return;
  BIO_write(SSL_get_rbio(ssl_), ciphertext.data(), static_cast<int>(ciphertext.size()));
  advance();
}

void TlsChannel::send(std::string_view plaintext) {
  if (state_ == State::kFailed || state_ == State::kClosed) return;
  pending_plaintext_.append(plaintext);
  advance();
}

void TlsChannel::close() {
  if (state_ == State::kEstablished) SSL_shutdown(ssl_);
  if (state_ != State::kFailed) state_ = State::kClosed;
  ERR_clear_error();
}

std::string TlsChannel::take_ciphertext() {
  BIO* out = SSL_get_wbio(ssl_);
  std::string bytes(static_cast<std::size_t>(BIO_ctrl_pending(out)), '\0');
  if (!bytes.empty()) BIO_read(out, bytes.data(), static_cast<int>(bytes.size()));
  return bytes;
}

bool TlsChannel::has_ciphertext() const { return BIO_ctrl_pending(SSL_get_wbio(ssl_)) > 0; }

std::string TlsChannel::take_plaintext() { return std::exchange(plaintext_, {}); }

void TlsChannel::fail(std::string why) {
  state_ = State::kFailed;
  report_.error = std::move(why);
  ERR_clear_error();
}

void TlsChannel::advance() {
  if (state_ == State::kHandshaking) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      state_ = State::kEstablished;
      fill_report();
    } else {
      const int err = SSL_get_error(ssl_, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        std::string why = drain_openssl_errors();
        if (why.empty()) why = err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL ? "the peer closed the "
                                                                                          "connection during the "
                                                                                          "handshake"
                                                                                        : "handshake failed";
        fill_report();
        fail(std::move(why));
      }
      return;
    }
  }
  if (state_ != State::kEstablished) return;
  while (!pending_plaintext_.empty()) {
    ERR_clear_error();
    const int n = SSL_write(ssl_, pending_plaintext_.data(), static_cast<int>(pending_plaintext_.size()));
    if (n <= 0) {
      fail(absl::StrCat("TLS write failed: ", drain_openssl_errors()));
      return;
    }
    pending_plaintext_.erase(0, static_cast<std::size_t>(n));
  }
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buf, sizeof buf);
    if (n > 0) {
      plaintext_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_ZERO_RETURN) {
      state_ = State::kClosed;  // close_notify from the peer
    } else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      fail(absl::StrCat("TLS read failed: ", drain_openssl_errors()));
    }
    break;
  }
}

void TlsChannel::fill_report() {
  report_.version = SSL_get_version(ssl_);
  if (const char* c = SSL_get_cipher_name(ssl_); c != nullptr && std::string_view(c) != "(NONE)") report_.cipher = c;
  if (!is_client_) return;
  X509Ptr peer(SSL_get1_peer_certificate(ssl_));
  if (peer) {
    report_.peer_subject = name_text(X509_get_subject_name(peer.get()));
    report_.peer_issuer = name_text(X509_get_issuer_name(peer.get()));
    report_.peer_names = dns_names(peer.get());
    report_.peer_not_after = time_text(X509_get0_notAfter(peer.get()));
  }
  const long result = SSL_get_verify_result(ssl_);
  report_.verified = peer && result == X509_V_OK;
  report_.verify_result = !peer ? "no certificate" : result == X509_V_OK ? "ok" : X509_verify_cert_error_string(result);
}

}  // namespace smtplab::tls
