// Slows a client that sends too much: more than `max_messages` MAIL commands
// per `window` from one address get 421 4.7.0 and the connection closes (RFC
// 5321 3.8), like Postfix's anvil (smtpd_client_message_rate_limit).
#pragma once

#include <deque>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "agents/policies/policy_hook.hpp"
#include "sim/clock.hpp"

namespace smtplab::agents {

struct RateLimitSettings {
  int max_messages = 10;
  absl::Duration window = absl::Seconds(60);  // Postfix anvil_rate_time_unit
};

class RateLimitPolicy : public PolicyHook {
 public:
  RateLimitPolicy(const sim::Clock& clock, RateLimitSettings settings) : clock_(clock), settings_(settings) {}
  std::optional<smtp::Reply> on_mail(const smtp::SessionState&, const smtp::Command&) override;

 private:
  const sim::Clock& clock_;
  RateLimitSettings settings_;
  std::map<std::string, std::deque<absl::Duration>> recent_;
};

}  // namespace smtplab::agents
