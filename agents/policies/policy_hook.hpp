// A piece of server policy an agent is given (greylisting, rate limits, fault
// injection...), in the spirit of Postfix's smtpd restrictions: each hook may
// answer a step with a reply of its own, and the first hook that does wins.
#pragma once

#include <optional>
#include <string_view>

#include "agents/smtp/server_policy.hpp"

namespace smtplab::agents {

class PolicyHook {
 public:
  virtual ~PolicyHook() = default;
  virtual std::optional<smtp::Reply> on_connect(const smtp::SessionState&) { return std::nullopt; }
  virtual std::optional<smtp::Reply> on_mail(const smtp::SessionState&, const smtp::Command&) { return std::nullopt; }
  virtual std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) {
    return std::nullopt;
  }
  // After the message text, before the server takes it.
  virtual std::optional<smtp::Reply> on_data_end(const smtp::SessionState&, const smtp::Envelope&, std::string_view) {
    return std::nullopt;
  }
  // The server accepted a message (for hooks that learn from success).
  virtual void on_accepted(const smtp::SessionState&, const smtp::Envelope&) {}
};

}  // namespace smtplab::agents
