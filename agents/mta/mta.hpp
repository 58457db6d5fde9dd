// A mail transfer agent: an SMTP server that takes responsibility for mail
// (250 = "it's in my queue"), and a queue manager that hands each message on
// hop by hop: to the MX hosts of the recipient's domain (with fallback down
// the preference list), to a smarthost, or to the local MDA. 4xx answers
// defer and retry on Postfix's schedule, 5xx answers bounce with an RFC 3464
// DSN to the envelope sender, and a Received header is added at every hop.
//
// With `submission` set it is a mail submission agent (RFC 6409): AUTH is
// required before MAIL, authenticated users may relay, and missing Date and
// Message-ID headers are added.
//
// The jobs live apart, as in Postfix: the receiving side (mta_receiver.*),
// the queue manager (queue_manager.*, queue_delivery.cpp, queue_spool.cpp),
// and the courier that speaks to one next hop (courier.hpp, smtp_courier.*).
// This class only owns them and starts the server.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agents/host_context.hpp"
#include "agents/mta/mta_receiver.hpp"
#include "agents/mta/mta_settings.hpp"
#include "agents/mta/queue_manager.hpp"
#include "agents/policies/policy_hook.hpp"

namespace smtplab::agents {

class Mta {
 public:
  Mta(HostContext context, MtaSettings settings)
      : context_(std::move(context)), settings_(std::move(settings)) {}
  Mta(const Mta&) = delete;
  Mta& operator=(const Mta&) = delete;

  // Resumes the queue the store holds, then listens.
  absl::Status start();

  // Keep the queue in `store` (call before start(): start() reloads what the
  // store holds, as a restarted MTA resumes its queue).
  void use_store(QueueStore& store) { queue_.use_store(store); }

  // Policy pieces (greylisting, rate limits, faults), asked in order about
  // clients not allowed to relay.
  void add_policy(std::shared_ptr<PolicyHook> hook) { hooks_.push_back(std::move(hook)); }

  const std::map<std::string, QueuedMessage>& queue() const { return queue_.messages(); }
  std::size_t delivery_attempts() const { return queue_.delivery_attempts(); }
  const SmtpConnectionCache& connections() const { return queue_.connections(); }
  std::optional<absl::Duration> next_attempt(const std::string& queue_id) const {
    return queue_.next_attempt(queue_id);
  }
  const MtaSettings& settings() const { return settings_; }
  const HostContext& context() const { return context_; }

 private:
  HostContext context_;
  MtaSettings settings_;
  std::vector<std::shared_ptr<PolicyHook>> hooks_;
  QueueManager queue_{context_, settings_};
  MtaReceiver receiver_{context_, settings_, hooks_, queue_};
};

}  // namespace smtplab::agents
