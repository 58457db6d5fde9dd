// Greylisting as postgrey does it: the first attempt of a (client address,
// sender, recipient) triplet gets 451 4.7.1; a retry after the delay passes.
// Real MTAs retry, spam cannons usually do not. A client that passed often
// enough is whitelisted outright.
#pragma once

#include <map>
#include <string>
#include <tuple>

#include "absl/time/time.h"
#include "agents/policies/policy_hook.hpp"
#include "sim/clock.hpp"

namespace smtplab::agents {

struct GreylistSettings {
  absl::Duration delay = absl::Seconds(300);   // postgrey --delay
  absl::Duration max_age = absl::Hours(24 * 35);  // postgrey --max-age: forget triplets unseen this long
  int auto_whitelist_after = 5;                // postgrey --auto-whitelist-clients
};

class GreylistPolicy : public PolicyHook {
 public:
  GreylistPolicy(const sim::Clock& clock, GreylistSettings settings = {}) : clock_(clock), settings_(settings) {}

  std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) override;
  void on_accepted(const smtp::SessionState&, const smtp::Envelope&) override;

 private:
  using Triplet = std::tuple<std::string, std::string, std::string>;
  const sim::Clock& clock_;
  GreylistSettings settings_;
  std::map<Triplet, absl::Duration> first_seen_;
  std::map<std::string, int> passes_;  // per client address
};

// The client's address without its port: "192.0.2.1:40001" -> "192.0.2.1".
std::string client_address(const smtp::SessionState& state);

}  // namespace smtplab::agents
