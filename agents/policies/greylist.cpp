#include "agents/policies/greylist.hpp"

#include "sim/connection.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agents/smtp/reply_reason.hpp"

namespace smtplab::agents {

std::string client_address(const smtp::SessionState& state) {
  return std::string(sim::address_part(state.peer_address));
}

std::optional<smtp::Reply> GreylistPolicy::on_rcpt(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                                   const smtp::Command& command) {
  const std::string client = client_address(state);
  if (passes_[client] >= settings_.auto_whitelist_after) return std::nullopt;
  const Triplet key{client, absl::AsciiStrToLower(envelope.reverse_path.mailbox.to_string()),
                    absl::AsciiStrToLower(command.path.mailbox.to_string())};
  const absl::Duration now = clock_.now();
  auto it = first_seen_.find(key);
  if (it == first_seen_.end() || now - it->second > settings_.max_age) {
    first_seen_[key] = now;
    it = first_seen_.find(key);
  }
  const absl::Duration waited = now - it->second;
  if (waited < settings_.delay) {
    const auto left = absl::ToInt64Seconds(settings_.delay - waited);
    // RFC 6647 (greylisting) uses 451 4.7.1 as the usual reply.
    return smtp::make_reply(451, "4.7.1", absl::StrCat("Greylisted, try again in ", left, " seconds"),
                            smtp::reply_reason::kGreylisted);
  }
  return std::nullopt;
}

void GreylistPolicy::on_accepted(const smtp::SessionState& state, const smtp::Envelope&) {
  ++passes_[client_address(state)];
}

}  // namespace smtplab::agents
