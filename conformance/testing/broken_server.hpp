// Servers broken in one known way each, for proving that the conformance
// checks can fail: the project's correct engine behind a SessionTap that
// rewrites what goes in or out. The engine itself has no broken modes.
#pragma once

#include <functional>
#include <memory>

#include "agents/session_tap.hpp"

namespace smtplab::conformance::testing {

enum class Defect {
  // MAIL/RCPT/DATA out of order are accepted (RFC 5321 4.1.4): a missing MAIL
  // or RCPT is slipped in before the client's command, its reply dropped.
  kSkipSequenceChecks,
  // Multi-line replies lose their '-' continuation marks (RFC 5321 4.2.1).
  kBrokenMultiline,
  // Plaintext pipelined behind STARTTLS runs inside TLS (CVE-2011-0411).
  kKeepInputAfterStartTls,
  // The replies to one pipelined group go out last first (RFC 2920 3.1).
  kReversePipelinedReplies,
  // Unknown commands get 250 instead of 500 (RFC 5321 4.2.4).
  kAcceptUnknownCommands,
  // STARTTLS is listed again after the handshake (RFC 3207 4.2).
  kStartTlsInsideTls,
  // The plaintext EHLO is remembered inside TLS (RFC 3207 4.2).
  kKeepEhloAfterTls,
  // A bare LF ends a refused command line and what follows it runs as the
  // next command (RFC 5321 2.3.8): the bug an outside probe found in the sink.
  kSplitCommandAtBareLf,
};

// For ServerEndpointSettings::make_tap: a new tap per connection.
std::function<std::unique_ptr<agents::SessionTap>()> tap_for(Defect defect);

}  // namespace smtplab::conformance::testing
