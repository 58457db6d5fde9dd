// Builds an RFC 5322 message the way a mail user agent does: From, To,
// Subject, Date, Message-ID and MIME headers, then the body, with CRLF line
// ends. Time and the Message-ID's unique part are passed in, so the same
// inputs give the same bytes (the simulator depends on that).
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace smtplab::agents {

struct MessageDraft {
  std::string from;             // "alice@example.org"
  std::vector<std::string> to;  // addresses for the To: header
  std::string subject;
  std::string body;             // any line ends; normalised to CRLF
  absl::Time date;
  std::string message_id;       // without angle brackets: "unique@host"
};

std::string compose_message(const MessageDraft& draft);

// RFC 5322 3.3 date-time: "Mon, 23 Nov 2026 17:55:33 +0000".
std::string format_rfc5322_date(absl::Time time);

}  // namespace smtplab::agents
