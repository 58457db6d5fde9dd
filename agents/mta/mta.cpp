#include "agents/mta/mta.hpp"

#include "agents/smtp_listener.hpp"

namespace smtplab::agents {

absl::Status Mta::start() {
  if (auto recovered = queue_.recover(); !recovered.ok()) return recovered;
  return listen_smtp(context_, settings_.port, receiver_, receiver_.endpoint_settings(), settings_.agent_name);
}

}  // namespace smtplab::agents
