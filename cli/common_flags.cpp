#include "cli/common_flags.hpp"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, server, "", "The SMTP server, HOST:PORT");
ABSL_FLAG(std::string, from, "", "Envelope sender (send: also the From: header)");
ABSL_FLAG(std::string, to, "",
          "Recipient. send: repeat --to for several; conform: a recipient you own, so that test messages are "
          "actually delivered (without it no transaction is completed)");
ABSL_FLAG(std::string, auth, "", "USER:PASS to log in with AUTH (conform: needed for the submission profile)");
ABSL_FLAG(bool, starttls, false, "Upgrade to TLS with STARTTLS (RFC 3207); fail if the server does not offer it");
ABSL_FLAG(bool, tls_verify, false, "Refuse a server certificate that does not verify (chain, dates, name)");
ABSL_FLAG(std::string, tls_ca, "", "PEM file of CA certificates to trust (default: the system's store)");
ABSL_FLAG(std::string, tls_server_name, "", "Name the server's certificate must carry, also sent as SNI (default: the host in --server)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Give up on a silent server after this long (per reply)");
