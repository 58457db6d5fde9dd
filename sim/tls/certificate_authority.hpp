// A certificate authority made for one run, in code (OpenSSL API, no
// shelling out): it issues the host certificates a scenario names, including
// the broken ones students must learn to recognise (expired, not yet valid,
// issued for another name, self-signed, signed by a CA nobody trusts).
// Validity is given in absolute time, so a virtual-time run decides what
// "expired" means.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace smtplab::tls {

// A certificate and its private key, PEM-encoded: what a server loads, and
// what swaks or aiosmtpd can read from files.
struct Credentials {
  std::string certificate_pem;
  std::string private_key_pem;
};

enum class Signer {
  kRunCa,       // the run's CA, which every client of the run trusts
  kSelfSigned,  // signed by its own key
  kUnknownCa,   // signed by a second CA that no client trusts
};

struct CertificateSpec {
  // subjectAltName dNSName entries; the first is also the subject CN.
  std::vector<std::string> names;
  absl::Time not_before;
  absl::Time not_after;
  Signer signer = Signer::kRunCa;
};

// A certificate valid from a day before `now` for 90 days (Let's Encrypt's
// lifetime), then spoilt as lessons need: "good" (or "none") leaves it,
// "expired" ended 30 days before `now`, "not_yet_valid" starts 30 days after,
// "wrong_name" names `other_name` instead, "self_signed", "unknown_ca".
absl::StatusOr<CertificateSpec> certificate_for(std::vector<std::string> names, absl::Time now,
                                                std::string_view problem, const std::string& other_name);

class CertificateAuthority {
 public:
  // A new CA whose subject CN is `name`, valid from `not_before` to `not_after`.
  static absl::StatusOr<CertificateAuthority> create(std::string_view name, absl::Time not_before,
                                                     absl::Time not_after);
  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;
  ~CertificateAuthority();

  // The CA certificate: what clients of the run trust.
  const std::string& root_pem() const;
  absl::StatusOr<Credentials> issue(const CertificateSpec& spec);

 private:
  struct State;
  explicit CertificateAuthority(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace smtplab::tls
