// The MTA's receiving side (Postfix's smtpd restrictions and cleanup): the
// policy its SMTP server asks at each step. It decides who may relay (RFC
// 5321 3.6.2), asks the policy hooks (greylisting, rate limits, faults) about
// clients it does not trust, refuses mail loops by counting Received headers
// (RFC 5321 6.3), adds this hop's Received header (and, for an MSA, a missing
// Date or Message-ID: RFC 6409 8), and hands the message to the queue. It
// answers 250 only once the queue holds the message.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agents/host_context.hpp"
#include "agents/mta/mta_settings.hpp"
#include "agents/mta/queue_manager.hpp"
#include "agents/policies/policy_hook.hpp"
#include "agents/smtp/server_policy.hpp"
#include "agents/smtp_server_endpoint.hpp"

namespace smtplab::agents {

class MtaReceiver : public smtp::ServerPolicy {
 public:
  MtaReceiver(const HostContext& context, const MtaSettings& settings,
              const std::vector<std::shared_ptr<PolicyHook>>& hooks, QueueManager& queue)
      : context_(context), settings_(settings), hooks_(hooks), queue_(queue) {}

  // How the SMTP server is set up: STARTTLS with a certificate, AUTH for a
  // submission server.
  ServerEndpointSettings endpoint_settings() const;

  std::optional<smtp::Reply> on_connect(const smtp::SessionState&) override;
  std::optional<smtp::Reply> on_auth(const smtp::SessionState&, const smtp::AuthAttempt&) override;
  std::optional<smtp::Reply> on_mail(const smtp::SessionState&, const smtp::Command&) override;
  std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) override;
  smtp::Reply on_message(const smtp::SessionState&, const smtp::Envelope&, std::string message) override;

 private:
  // Relaying is allowed: an authenticated user, a listed client, or an open relay.
  bool trusted(const smtp::SessionState& state) const;

  const HostContext& context_;
  const MtaSettings& settings_;
  const std::vector<std::shared_ptr<PolicyHook>>& hooks_;
  QueueManager& queue_;
};

}  // namespace smtplab::agents
