// Starts an SMTP server for an agent: every accepted connection runs a
// ServerSession over the agent's policy, traced as that agent.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "agents/host_context.hpp"
#include "agents/smtp_server_endpoint.hpp"

namespace smtplab::agents {

absl::Status listen_smtp(const HostContext& context, int port, smtp::ServerPolicy& policy,
                         const ServerEndpointSettings& settings, const std::string& agent_name);

}  // namespace smtplab::agents
