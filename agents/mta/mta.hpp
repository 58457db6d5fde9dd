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
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agents/host_context.hpp"
#include "agents/mta/mail_queue.hpp"
#include "agents/mta/mx_router.hpp"
#include "agents/mta/smtp_courier.hpp"
#include "agents/mta/queue_store.hpp"
#include "agents/mta/retry_schedule.hpp"
#include "agents/policies/policy_hook.hpp"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/smtp_connection_cache.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "agents/tls_policy.hpp"

namespace smtplab::agents {

struct MtaSettings {
  std::string agent_name = "mta";   // in the trace: "mta" or "msa"
  int port = 25;
  // Domains this MTA is the final destination for: mail goes to the MDA.
  std::vector<std::string> local_domains;
  // Domains it accepts from anyone and forwards (Postfix relay_domains): a backup MX.
  std::vector<std::string> relay_domains;
  std::string mda_host;   // where the MDA runs (a host name) ...
  std::string mda_address;  // ... and its address
  int mda_port = 24;
  // Send everything that is not local here instead of looking up MX (Postfix relayhost).
  std::string smarthost;
  // Per-domain next hops, checked before the smarthost (Postfix transport_maps).
  std::map<std::string, std::string> transport;
  int remote_port = 25;  // the port of next hops found by MX
  // Client addresses allowed to relay (Postfix mynetworks), e.g. our MSA.
  std::vector<std::string> relay_clients;
  // Relay for anyone: the misconfiguration spammers look for. For teaching only.
  bool open_relay = false;
  // Mail submission agent mode (RFC 6409).
  bool submission = false;
  std::map<std::string, std::string> users;  // user -> password, for AUTH
  // Postfix hopcount_limit: more Received headers than this is a mail loop.
  int hop_limit = 50;
  RetrySettings retry;
  ServerEndpointSettings endpoint;
  ClientTimeouts client_timeouts;
  // Outgoing TLS to MX hosts and smarthosts (Postfix smtp_tls_security_level).
  // Incoming TLS is endpoint.tls: with a certificate, STARTTLS is offered.
  ClientTlsPolicy outgoing_tls;
  absl::Duration connect_timeout = absl::Seconds(30);  // Postfix smtp_connect_timeout
  // Keep connections to next hops open for the next message (Postfix's
  // connection cache); off by default, one connection per attempt.
  ConnectionCacheSettings connection_cache;
  // A queue file that cannot be removed from the spool is tried again this
  // often, this many times; a file left behind is delivered again after a
  // restart (a duplicate, never a loss).
  absl::Duration spool_retry_delay = absl::Seconds(60);
  int spool_remove_tries = 5;
};

class Mta : public smtp::ServerPolicy {
 public:
  Mta(HostContext context, MtaSettings settings);
  ~Mta() override;
  absl::Status start();

  // Keep the queue in `store` (call before start(): start() reloads what the
  // store holds, as a restarted MTA resumes its queue).
  void use_store(QueueStore& store) { store_ = &store; }

  // Policy pieces (greylisting, rate limits, faults), asked in order.
  void add_policy(std::shared_ptr<PolicyHook> hook) { hooks_.push_back(std::move(hook)); }

  const std::map<std::string, QueuedMessage>& queue() const { return queue_; }
  std::size_t delivery_attempts() const { return attempts_started_; }
  const SmtpConnectionCache& connections() const { return courier_.connections(); }
  // When a queued message's next attempt is due (clock time); none while an
  // attempt runs or when nothing is scheduled.
  std::optional<absl::Duration> next_attempt(const std::string& queue_id) const;
  const MtaSettings& settings() const { return settings_; }
  const HostContext& context() const { return context_; }

  // smtp::ServerPolicy
  std::optional<smtp::Reply> on_connect(const smtp::SessionState&) override;
  std::optional<smtp::Reply> on_auth(const smtp::SessionState&, const smtp::AuthAttempt&) override;
  std::optional<smtp::Reply> on_mail(const smtp::SessionState&, const smtp::Command&) override;
  std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) override;
  smtp::Reply on_message(const smtp::SessionState&, const smtp::Envelope&, std::string message) override;

 private:
  struct Attempt;  // one delivery attempt of one message (mta_delivery.cpp)
  struct Group;    // the recipients of an attempt that share a next hop

  bool trusted(const smtp::SessionState& state) const;
  bool is_local_domain(const std::string& domain) const;
  std::string next_queue_id();
  // `added`: the header lines this hop put on top (Received, and for an MSA
  // a missing Date or Message-ID), shown in the trace at full level.
  QueuedMessage& enqueue(QueuedMessage message, std::uint64_t connection, const std::string& origin,
                         const std::string& added = {});
  // The spool (mta_spool.cpp). Without a store every write succeeds. A
  // failure is traced (queue.spool_error) with `consequence`: what it means
  // for the message and what happens next.
  bool spool_write(const QueuedMessage& message, std::string_view consequence);
  // Removes the message's queue file, trying again on failure.
  void spool_remove(const QueuedMessage& message, int tries_left);
  absl::Status recover();

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

  // `explain` empty: the kind's name is the explanation key.
  void trace(sim::EventKind kind, const QueuedMessage& message, std::string text, std::string explain,
             std::vector<std::pair<std::string, std::string>> details = {}, std::uint64_t connection = 0,
             std::string peer = {});

  HostContext context_;
  MtaSettings settings_;
  std::vector<std::shared_ptr<PolicyHook>> hooks_;
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
  SmtpCourier courier_{context_, SmtpCourierSettings{settings_.outgoing_tls, settings_.client_timeouts,
                                                     settings_.connect_timeout, settings_.connection_cache}};
};

}  // namespace smtplab::agents
