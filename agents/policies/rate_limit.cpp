#include "agents/policies/rate_limit.hpp"

#include "absl/strings/str_cat.h"
#include "agents/policies/greylist.hpp"
#include "agents/smtp/reply_reason.hpp"

namespace smtplab::agents {

std::optional<smtp::Reply> RateLimitPolicy::on_mail(const smtp::SessionState& state, const smtp::Command&) {
  auto& times = recent_[client_address(state)];
  const absl::Duration now = clock_.now();
  while (!times.empty() && now - times.front() >= settings_.window) times.pop_front();
  if (static_cast<int>(times.size()) >= settings_.max_messages) {
    return smtp::make_reply(421, "4.7.0",
                            absl::StrCat("Error: too many messages from ", client_address(state), ", slow down"),
                            smtp::reply_reason::kRateLimited);
  }
  times.push_back(now);
  return std::nullopt;
}

}  // namespace smtplab::agents
