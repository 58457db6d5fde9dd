#include "cli/loopback_delivery.hpp"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/smtp_client_endpoint.hpp"

namespace smtplab::cli {

absl::Status run_client_session(sim::LoopbackRuntime& runtime, const std::string& host, int port,
                                smtp::ClientSession& session, absl::Duration timeout,
                                agents::ClientTlsOptions tls) {
  agents::ClientTimeouts timeouts;
  if (timeout < absl::Minutes(10)) {
    timeouts = {timeout, timeout, timeout, timeout, timeout, timeout};
  }
  std::string why;
  if (tls.context && tls.clock == nullptr) tls.clock = &runtime.clock();  // real time: certificates as of now
  runtime.connect(host, port,
                  std::make_unique<agents::SmtpClientEndpoint>(session, timeouts, [&](std::string_view reason) {
                    why = std::string(reason);
                    runtime.stop();
                  }, std::move(tls)),
                  timeout);
  runtime.run();
  if (absl::StartsWith(why, "cannot ")) return absl::UnavailableError(absl::StrCat(host, ":", port, ": ", why));
  return absl::OkStatus();
}

}  // namespace smtplab::cli
