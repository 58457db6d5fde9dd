// Runs one ClientSession against HOST:PORT over a real loopback socket and
// returns when the session is over. Used by `send` and `demo`.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace smtplab::cli {

// Returns an error only when no SMTP conversation happened at all (cannot
// connect); everything else is in the session's results.
absl::Status run_client_session(sim::LoopbackRuntime& runtime, const std::string& host, int port,
                                smtp::ClientSession& session, absl::Duration timeout,
                                agents::ClientTlsOptions tls = {});

}  // namespace smtplab::cli
