// The capture sink: a ServerPolicy that accepts mail for any recipient and
// files each message into a Maildir with Return-Path and Received headers,
// like Mailpit or Postfix's smtp-sink -d, but keeping the exact bytes.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "agents/maildir_store.hpp"
#include "agents/smtp/server_policy.hpp"

namespace smtplab::agents {

struct CaptureSinkSettings {
  std::string hostname = "localhost";  // "by" in the Received header
  // Postfix's default_process_limit: more simultaneous clients get 421 4.7.0.
  std::size_t max_connections = 100;
};

class CaptureSink : public smtp::ServerPolicy {
 public:
  CaptureSink(MaildirStore& store, CaptureSinkSettings settings,
              std::function<absl::Time()> clock = [] { return absl::Now(); });

  // Call with the connection count before a session starts; over the limit the
  // greeting becomes 421 (RFC 5321 3.8).
  std::optional<smtp::Reply> admit(std::size_t active_connections) const;

  smtp::Reply on_message(const smtp::SessionState& state, const smtp::Envelope& envelope,
                         std::string message) override;

  // The trace headers this sink adds in front of a message (RFC 5321 4.4).
  std::string trace_headers(const smtp::SessionState& state, const smtp::Envelope& envelope,
                            const std::string& id) const;
  std::size_t delivered() const { return delivered_.load(); }

 private:
  MaildirStore& store_;
  CaptureSinkSettings settings_;
  std::function<absl::Time()> clock_;
  std::atomic<std::size_t> delivered_{0};
};

}  // namespace smtplab::agents
