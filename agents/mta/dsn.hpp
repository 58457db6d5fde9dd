// Delivery status notifications (RFC 3464): the bounce an MTA sends to the
// envelope sender when it gives up on recipients. A multipart/report
// (RFC 6522) with a human-readable part, the machine-readable
// message/delivery-status part, and the original message's headers.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace smtplab::agents {

struct DsnRecipient {
  std::string final_recipient;  // "bob@example.net"
  std::string action = "failed";  // "failed" or "delayed" (RFC 3464 2.3.3)
  std::string status;           // "5.1.1" (RFC 3463)
  std::string remote_mta;       // who refused it, if anyone did
  std::string diagnostic;       // "550 5.1.1 User unknown"
};

struct DsnInput {
  std::string reporting_mta;  // our host name
  std::string original_sender;
  std::string original_message;  // its headers are returned
  absl::Time arrival_date;
  absl::Time now;
  std::string dsn_message_id;  // without brackets
  std::vector<DsnRecipient> recipients;
};

std::string compose_dsn(const DsnInput& input);

}  // namespace smtplab::agents
