// One CA and one server certificate, ready to use: for tests, and for tools
// that need a working TLS server without files (the certificate names the
// host; clients that should trust it get the CA's PEM).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sim/tls/certificate_authority.hpp"
#include "sim/tls/tls_context.hpp"

namespace smtplab::tls {

struct TestPki {
  std::string root_pem;                  // trust this
  Credentials server;                    // the host's certificate and key
  std::shared_ptr<const TlsContext> server_context;
  std::shared_ptr<const TlsContext> client_context;  // trusts root_pem
};

// A certificate for `server_name` valid for a year around `now`.
absl::StatusOr<TestPki> make_test_pki(const std::string& server_name, absl::Time now = absl::Now());

}  // namespace smtplab::tls
