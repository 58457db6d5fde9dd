// What an MTA holds between "250 Ok: queued" and handing the message on:
// the envelope, the message, and where each recipient stands.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "agents/smtp/command.hpp"
#include "agents/smtp/reply.hpp"

namespace smtplab::agents {

struct QueuedRecipient {
  enum class State { kPending, kDelivered, kBounced };
  smtp::Path path;
  smtp::RcptParameters params;
  State state = State::kPending;
  std::optional<smtp::Reply> last_reply;  // the latest answer about it
  std::string last_host;                  // who gave that answer
};

struct QueuedMessage {
  std::string id;          // this MTA's queue id
  std::string message_id;  // the Message-ID header, the same at every hop
  smtp::Path reverse_path;
  smtp::MailParameters params;
  std::vector<QueuedRecipient> recipients;
  std::string content;     // with our Received header on top
  absl::Duration arrival;
  int attempts = 0;
  bool in_flight = false;  // a delivery attempt is running
  bool is_bounce = false;  // a DSN we generated (null sender)

  bool has_pending() const {
    for (const auto& r : recipients) {
      if (r.state == QueuedRecipient::State::kPending) return true;
    }
    return false;
  }
};

}  // namespace smtplab::agents
