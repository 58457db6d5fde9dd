// --tls, the one flag the clients (send, conform) and the server (sink)
// share: implicit TLS from the first byte. In a file of its own so that
// `smtplab sink --help` lists it without the clients' flags.
#include "absl/flags/flag.h"
#include "cli/common_flags.hpp"

ABSL_FLAG(bool, tls, false,
          "Implicit TLS from the first byte (RFC 8314, port 465); with sink, serve it (needs --tls-cert and --tls-key)");
