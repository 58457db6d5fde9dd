#include "sim/tls/certificate_authority.hpp"

#include <arpa/inet.h>

#include <atomic>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/tls/openssl_handles.hpp"

namespace smtplab::tls {
namespace {

// P-256 keys: as strong as RSA-3072 and generated in well under a millisecond,
// so a run can mint a certificate per host without slowing down.
absl::StatusOr<KeyPtr> new_key() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return absl::InternalError(absl::StrCat("key generation failed: ", drain_openssl_errors()));
  return key;
}

bool is_ip_address(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

std::uint64_t next_serial() {
  static std::atomic<std::uint64_t> serial{1000};
  return ++serial;
}

absl::Status add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return absl::InternalError(absl::StrCat("certificate extension ", value, ": ", drain_openssl_errors()));
  }
  return absl::OkStatus();
}

// A certificate for `key` named `cn`, signed by `signer_key`; `issuer` is the
// signing certificate, or null when the certificate signs itself.
absl::StatusOr<X509Ptr> make_certificate(EVP_PKEY* key, const std::string& cn, const std::vector<std::string>& names,
                                         absl::Time not_before, absl::Time not_after, bool is_ca, X509* issuer,
                                         EVP_PKEY* signer_key) {
  X509Ptr cert(X509_new());
  if (!cert) return absl::InternalError("X509_new failed");
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), next_serial());
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) == nullptr) {
    return absl::InvalidArgumentError("certificate validity is out of range");
  }
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("smtplab"), -1, -1, 0);
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                 -1, 0) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("certificate name '", cn, "': ", drain_openssl_errors()));
  }
  X509* issuer_cert = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert));
  if (auto s = add_extension(cert.get(), issuer_cert, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
      !s.ok())
    return s;
  if (auto s = add_extension(cert.get(), issuer_cert, NID_key_usage,
                             is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
      !s.ok())
    return s;
  if (auto s = add_extension(cert.get(), issuer_cert, NID_subject_key_identifier, "hash"); !s.ok()) return s;
  if (issuer != nullptr) {
    if (auto s = add_extension(cert.get(), issuer_cert, NID_authority_key_identifier, "keyid:always"); !s.ok())
      return s;
  }
  if (!is_ca) {
    if (auto s = add_extension(cert.get(), issuer_cert, NID_ext_key_usage, "serverAuth"); !s.ok()) return s;
    std::vector<std::string> dns;
    for (const auto& n : names) dns.push_back(absl::StrCat(is_ip_address(n) ? "IP:" : "DNS:", n));
    if (!dns.empty()) {
      if (auto s = add_extension(cert.get(), issuer_cert, NID_subject_alt_name, absl::StrJoin(dns, ",")); !s.ok())
        return s;
    }
  }
  if (X509_sign(cert.get(), signer_key, EVP_sha256()) == 0) {
    return absl::InternalError(absl::StrCat("signing the certificate failed: ", drain_openssl_errors()));
  }
  return cert;
}

std::string pem_of(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  return bio_contents(bio.get());
}

std::string pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_contents(bio.get());
}

}  // namespace

std::optional<CertificateProblem> parse_certificate_problem(std::string_view name) {
  if (name == "good" || name == "none") return CertificateProblem::kNone;
  for (CertificateProblem p : {CertificateProblem::kExpired, CertificateProblem::kNotYetValid,
                               CertificateProblem::kWrongName, CertificateProblem::kSelfSigned,
                               CertificateProblem::kUnknownCa}) {
    if (name == certificate_problem_name(p)) return p;
  }
  return std::nullopt;
}

std::string_view certificate_problem_name(CertificateProblem problem) {
  switch (problem) {
    case CertificateProblem::kNone: return "good";
    case CertificateProblem::kExpired: return "expired";
    case CertificateProblem::kNotYetValid: return "not_yet_valid";
    case CertificateProblem::kWrongName: return "wrong_name";
    case CertificateProblem::kSelfSigned: return "self_signed";
    case CertificateProblem::kUnknownCa: return "unknown_ca";
  }
  return "good";
}

const std::vector<std::string>& certificate_problem_names() {
  static const std::vector<std::string> names = {"good",       "expired",     "not_yet_valid",
                                                 "wrong_name", "self_signed", "unknown_ca"};
  return names;
}

CertificateSpec certificate_for(std::vector<std::string> names, absl::Time now, CertificateProblem problem,
                                const std::string& other_name) {
  const absl::Duration day = absl::Hours(24);
  CertificateSpec spec;
  spec.names = std::move(names);
  spec.not_before = now - day;
  spec.not_after = now + 90 * day;
  switch (problem) {
    case CertificateProblem::kNone:
      break;
    case CertificateProblem::kExpired:
      spec.not_before = now - 120 * day;
      spec.not_after = now - 30 * day;
      break;
    case CertificateProblem::kNotYetValid:
      spec.not_before = now + 30 * day;
      spec.not_after = now + 120 * day;
      break;
    case CertificateProblem::kWrongName:
      spec.names = {other_name};
      break;
    case CertificateProblem::kSelfSigned:
      spec.signer = Signer::kSelfSigned;
      break;
    case CertificateProblem::kUnknownCa:
      spec.signer = Signer::kUnknownCa;
      break;
  }
  return spec;
}

struct CertificateAuthority::State {
  std::string name;
  absl::Time not_before, not_after;
  KeyPtr key;
  X509Ptr cert;
  std::string root_pem;
  // A second CA, made on first use, that signs kUnknownCa certificates.
  std::unique_ptr<CertificateAuthority> stranger;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<State> state) : state_(std::move(state)) {}
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

absl::StatusOr<CertificateAuthority> CertificateAuthority::create(std::string_view name, absl::Time not_before,
                                                                  absl::Time not_after) {
  auto state = std::make_unique<State>();
  state->name = std::string(name);
  state->not_before = not_before;
  state->not_after = not_after;
  auto key = new_key();
  if (!key.ok()) return key.status();
  state->key = std::move(*key);
  auto cert = make_certificate(state->key.get(), state->name, {}, not_before, not_after, true, nullptr,
                               state->key.get());
  if (!cert.ok()) return cert.status();
  state->cert = std::move(*cert);
  state->root_pem = pem_of(state->cert.get());
  return CertificateAuthority(std::move(state));
}

const std::string& CertificateAuthority::root_pem() const { return state_->root_pem; }

absl::StatusOr<Credentials> CertificateAuthority::issue(const CertificateSpec& spec) {
  if (spec.names.empty()) return absl::InvalidArgumentError("a certificate needs at least one name");
  if (spec.signer == Signer::kUnknownCa) {
    if (!state_->stranger) {
      auto other = create(absl::StrCat(state_->name, " (not trusted)"), state_->not_before, state_->not_after);
      if (!other.ok()) return other.status();
      state_->stranger = std::make_unique<CertificateAuthority>(std::move(*other));
    }
    CertificateSpec signed_by_run = spec;
    signed_by_run.signer = Signer::kRunCa;
    return state_->stranger->issue(signed_by_run);
  }
  auto key = new_key();
  if (!key.ok()) return key.status();
  const bool self = spec.signer == Signer::kSelfSigned;
  auto cert = make_certificate(key->get(), spec.names.front(), spec.names, spec.not_before, spec.not_after, false,
                               self ? nullptr : state_->cert.get(), self ? key->get() : state_->key.get());
  if (!cert.ok()) return cert.status();
  Credentials out;
  // Only the leaf: the root is what the client must already trust, as on
  // the real Internet, so an unknown CA shows as "unable to get local issuer".
  out.certificate_pem = pem_of(cert->get());
  out.private_key_pem = pem_of(key->get());
  return out;
}

}  // namespace smtplab::tls
