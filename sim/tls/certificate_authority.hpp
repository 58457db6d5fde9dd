// A certificate authority made for one run, in code (OpenSSL API, no
// shelling out): it issues the host certificates a scenario names, including
// the broken ones students must learn to recognise (expired, not yet valid,
// issued for another name, self-signed, signed by a CA nobody trusts).
// Validity is given in absolute time, so a virtual-time run decides what
// "expired" means.
#pragma once

#include <memory>
#include <optional>
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

// What is wrong with a certificate, on purpose: the faults students must
// learn to recognise in a handshake, and what they cause (RFC 5280 6.1;
// RFC 6125 for the name).
enum class CertificateProblem {
  kNone,         // "good" (or "none"): valid, for the right name, from the run's CA
  kExpired,      // notAfter 30 days before now
  kNotYetValid,  // notBefore 30 days after now
  kWrongName,    // issued for another name
  kSelfSigned,   // signed by its own key
  kUnknownCa,    // signed by a CA no client trusts
};

// The names are those of certificate_problem_names(); "none" is taken as
// "good" too.
std::optional<CertificateProblem> parse_certificate_problem(std::string_view name);
std::string_view certificate_problem_name(CertificateProblem problem);
// One name per problem, for messages and suggestions.
const std::vector<std::string>& certificate_problem_names();

// A certificate valid from a day before `now` for 90 days (Let's Encrypt's
// lifetime), then spoilt by `problem`; kWrongName names `other_name` instead.
CertificateSpec certificate_for(std::vector<std::string> names, absl::Time now, CertificateProblem problem,
                                const std::string& other_name);

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
