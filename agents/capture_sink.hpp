// The capture sink: a ServerPolicy that accepts mail for any recipient and
// files each message into a Maildir with Return-Path and Received headers,
// like Mailpit or Postfix's smtp-sink -d, but keeping the exact bytes. Who
// may connect at all is the ConnectionGate's business (connection_gate.hpp).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "agents/maildir_store.hpp"
#include "agents/smtp/server_policy.hpp"

namespace smtplab::agents {

class MaildirGroupCommit;

struct CaptureSinkSettings {
  std::string hostname = "localhost";  // "by" in the Received header
  // With it, a message streamed in is made durable together with the others
  // whose final dot arrived meanwhile (maildir_group_commit.hpp), and its
  // session waits for the answer without holding up the rest; without it,
  // each is synced on its own before its session goes on. Must outlive
  // every session that may still be committing.
  MaildirGroupCommit* group_commit = nullptr;
};

class CaptureSink : public smtp::ServerPolicy {
 public:
  CaptureSink(MaildirStore& store, CaptureSinkSettings settings,
              std::function<absl::Time()> clock = [] { return absl::Now(); });

  // The text goes into the Maildir's tmp/ as it arrives (the trace headers
  // first), so a connection holds at most MaildirStore::Delivery's buffer of
  // it whatever the message size; 250 only after fsync and rename (for the
  // whole group, with a group commit).
  std::unique_ptr<smtp::MessageWriter> open_message(const smtp::SessionState& state,
                                                    const smtp::Envelope& envelope) override;
  // The same for a message handed over whole.
  smtp::Reply on_message(const smtp::SessionState& state, const smtp::Envelope& envelope,
                         std::string message) override;

  // The trace headers this sink adds in front of a message (RFC 5321 4.4).
  std::string trace_headers(const smtp::SessionState& state, const smtp::Envelope& envelope,
                            const std::string& id) const;
  std::size_t delivered() const { return delivered_.load(); }

 private:
  class Writer;
  // The reply for a message stored (or not) as `stored` says.
  smtp::Reply stored_reply(const absl::StatusOr<std::string>& stored, const std::string& id);
  MaildirStore& store_;
  CaptureSinkSettings settings_;
  std::function<absl::Time()> clock_;
  std::atomic<std::size_t> delivered_{0};
};

}  // namespace smtplab::agents
