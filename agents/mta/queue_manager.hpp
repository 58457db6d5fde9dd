// The MTA's queue manager (Postfix's qmgr): it holds every message the MTA
// has taken responsibility for, and hands each on hop by hop. Each attempt
// groups the pending recipients by next hop, routes each group (the MDA, a
// transport or smarthost, or the domain's MX hosts), has the courier try the
// hops in order, and settles every recipient as relayed, bounced or
// deferred. Deferred messages come back on the retry schedule until their
// queue lifetime ends; bounces go back to the sender as RFC 3464 DSNs. With
// a store, every message is on disk before it counts as accepted.
//
// Files: queue_manager.cpp (intake, retries, expiry, bounces),
// queue_delivery.cpp (one attempt: routing, hops, settling), queue_spool.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "agents/host_context.hpp"
#include "agents/mta/mail_queue.hpp"
#include "agents/mta/mta_settings.hpp"
#include "agents/mta/mx_router.hpp"
#include "agents/mta/queue_store.hpp"
#include "agents/mta/queue_tracer.hpp"
#include "agents/mta/smtp_courier.hpp"

namespace smtplab::agents {

// Where a message came from, for its queue.enqueue event.
struct Arrival {
  std::uint64_t connection = 0;  // the SMTP connection it came in on; 0 for a bounce we made
  std::string origin;            // the client's HELO name, or "dsn"
  // The header lines this hop put on top (Received, and for an MSA a missing
  // Date or Message-ID), shown in the trace at full level.
  std::string added;
};

class QueueManager {
 public:
  QueueManager(const HostContext& context, const MtaSettings& settings);
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  // Keep the queue in `store`; recover() reloads what it holds, as a
  // restarted MTA resumes its queue.
  void use_store(QueueStore& store) { store_ = &store; }
  absl::Status recover();

  // The id the next message will be queued under (its Received header names it).
  std::string next_queue_id();
  // Takes responsibility for `message` (RFC 5321 6.1): writes it to the
  // spool and schedules its first attempt. An error means it is not stored
  // and must not be acknowledged.
  absl::Status accept(QueuedMessage message, const Arrival& arrival);

  const std::map<std::string, QueuedMessage>& messages() const { return queue_; }
  std::size_t delivery_attempts() const { return attempts_started_; }
  const SmtpConnectionCache& connections() const { return courier_.connections(); }
  // When a queued message's next attempt is due (clock time); none while an
  // attempt runs or when nothing is scheduled.
  std::optional<absl::Duration> next_attempt(const std::string& queue_id) const;

 private:
  struct Attempt;  // one delivery attempt of one message (queue_delivery.cpp)
  struct Group;    // the recipients of an attempt that share a next hop

  QueuedMessage& enqueue(QueuedMessage message, const Arrival& arrival);

  // The spool (queue_spool.cpp). Without a store every write succeeds. A
  // failure is traced (queue.spool_error) with `consequence`: what it means
  // for the message and what happens next.
  // Returns whether the message is on disk.
  bool spool_write(const QueuedMessage& message, std::string_view consequence);
  // Removes the message's queue file, trying again on failure.
  void spool_remove(const QueuedMessage& message, int tries_left);

  void schedule_attempt(const std::string& id, absl::Duration delay);
  void start_attempt(const std::string& id);
  void deliver_group(std::shared_ptr<Attempt> attempt, std::shared_ptr<Group> group);
  // `plaintext`: opportunistic TLS failed its handshake with this hop, so
  // this connection goes without (as Postfix retries in plaintext).
  void try_hop(std::shared_ptr<Attempt> attempt, std::shared_ptr<Group> group, std::size_t hop,
               bool plaintext = false);
  void group_done(std::shared_ptr<Attempt> attempt);
  void finish_attempt(std::shared_ptr<Attempt> attempt);
  void settle(std::shared_ptr<Attempt> attempt, std::size_t recipient, const smtp::Reply& reply,
              const std::string& host);
  // Queues a bounce for `recipients`; false if it could not be stored.
  bool send_dsn(const QueuedMessage& message, const std::vector<std::size_t>& recipients, bool expired);

  const HostContext& context_;
  const MtaSettings& settings_;
  QueueTracer trace_;
  std::unique_ptr<MxRouter> router_;
  std::map<std::string, QueuedMessage> queue_;
  struct Scheduled {
    sim::TimerId timer;
    absl::Duration due;
  };
  std::map<std::string, Scheduled> timers_;
  std::map<std::string, sim::TimerId> spool_retries_;  // queue files to remove again
  std::uint64_t next_id_ = 1;
  std::size_t attempts_started_ = 0;
  QueueStore* store_ = nullptr;
  SmtpCourier courier_;
};

}  // namespace smtplab::agents
