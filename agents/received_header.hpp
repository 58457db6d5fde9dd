// The trace headers a server adds in front of a message it accepts:
// Received (RFC 5321 4.4, with the "with" protocol names of RFC 3848) at
// every hop, and Return-Path at final delivery.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "agents/smtp/server_policy.hpp"

namespace smtplab::agents {

// "Received: from HELO ([ADDRESS])\r\n\tby HOST (smtplab) with ESMTPSA id ID\r\n\tfor <RCPT>; DATE\r\n".
// The recipient is named only when there is one, as Postfix does: naming all
// of them would show Bcc recipients to each other.
std::string received_header(const smtp::SessionState& state, const smtp::Envelope& envelope,
                            const std::string& by_host, const std::string& id, absl::Time when);

std::string return_path_header(const smtp::Envelope& envelope);

// How many Received headers the message's header section has (mail-loop
// detection counts them, like Postfix's hopcount_limit).
int count_received_headers(std::string_view message);

}  // namespace smtplab::agents
