// One delivery attempt of one queued message: group the pending recipients
// by next hop, route each group (MDA, transport or smarthost, or MX), have
// the courier try the hops in order, settle every recipient as relayed,
// bounced or deferred, and at the end decide between retry, expiry and
// leaving the queue.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agents/mta/queue_manager.hpp"
#include "base/absl_string_view.hpp"
#include "sim/time_text.hpp"

namespace smtplab::agents {

struct QueueManager::Group {
  std::string destination;            // the domain, the smarthost, or the MDA host
  enum class Kind { kMda, kSmarthost, kMx } kind = Kind::kMx;
  std::vector<std::size_t> recipients;  // indexes into the message's recipients
  Route route;
  smtp::Reply last_error;
};

struct QueueManager::Attempt {
  std::string id;
  std::size_t groups_left = 0;
  std::vector<std::size_t> bounced;  // recipients given up on in this attempt
};

void QueueManager::start_attempt(const std::string& id) {
  auto it = queue_.find(id);
  if (it == queue_.end() || it->second.in_flight || !it->second.has_pending()) return;
  QueuedMessage& m = it->second;
  m.in_flight = true;
  ++m.attempts;
  ++attempts_started_;
  if (m.attempts > 1) trace_.record(sim::EventKind::kQueueRetry, m, absl::StrCat("attempt ", m.attempts, " for ", m.id), {},
                            {{sim::detail_key::kAttempt, std::to_string(m.attempts)}});
  auto attempt = std::make_shared<Attempt>();
  attempt->id = id;
  // Group pending recipients by where they go next.
  std::map<std::string, std::shared_ptr<Group>> groups;
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    if (m.recipients[i].state != QueuedRecipient::State::kPending) continue;
    const smtp::Path& p = m.recipients[i].path;
    auto group = std::make_shared<Group>();
    if (p.is_postmaster || settings_.is_local_domain(p.mailbox.domain)) {
      group->kind = Group::Kind::kMda;
      group->destination = settings_.mda_host;
    } else if (auto t = settings_.transport.find(absl::AsciiStrToLower(p.mailbox.domain));
               t != settings_.transport.end()) {
      group->kind = Group::Kind::kSmarthost;
      group->destination = t->second;
    } else if (!settings_.smarthost.empty()) {
      group->kind = Group::Kind::kSmarthost;
      group->destination = settings_.smarthost;
    } else {
      group->destination = absl::AsciiStrToLower(p.mailbox.domain);
    }
    auto [g, inserted] = groups.emplace(group->destination, group);
    g->second->recipients.push_back(i);
  }
  attempt->groups_left = groups.size();
  for (auto& [destination, group] : groups) deliver_group(attempt, group);
}

void QueueManager::deliver_group(std::shared_ptr<Attempt> attempt, std::shared_ptr<Group> group) {
  auto routed = [this, attempt, group](Route route) {
    auto it = queue_.find(attempt->id);
    if (it == queue_.end()) return;
    if (route.kind != Route::Kind::kHops) {
      for (std::size_t i : group->recipients) settle(attempt, i, route.failure, "");
      group_done(attempt);
      return;
    }
    group->route = std::move(route);
    try_hop(attempt, group, 0);
  };
  if (group->kind == Group::Kind::kMda) {
    Route r;
    r.hops.push_back({settings_.mda_host, settings_.mda_address, 0});
    routed(std::move(r));
  } else if (router_ == nullptr) {
    Route r;
    r.kind = Route::Kind::kTemporaryFailure;
    r.failure = smtp::make_reply(451, "4.3.5", "No DNS resolver configured");
    routed(std::move(r));
  } else if (group->kind == Group::Kind::kSmarthost) {
    router_->route_to_host(group->destination, routed);
  } else {
    router_->route(group->destination, routed);
  }
}

void QueueManager::try_hop(std::shared_ptr<Attempt> attempt, std::shared_ptr<Group> group, std::size_t hop_index,
                  bool plaintext) {
  auto it = queue_.find(attempt->id);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  if (hop_index >= group->route.hops.size()) {
    // Every host failed before a transaction: defer (RFC 5321 4.5.4.1).
    for (std::size_t i : group->recipients) settle(attempt, i, group->last_error, "");
    group_done(attempt);
    return;
  }
  const NextHop hop = group->route.hops[hop_index];
  const int port = group->kind == Group::Kind::kMda ? settings_.mda_port : settings_.remote_port;
  // TLS to the next hop; the hand-over to our own MDA stays in plaintext.
  const TlsLevel level = group->kind == Group::Kind::kMda || plaintext || !settings_.outgoing_tls.context
                             ? TlsLevel::kNone
                             : settings_.outgoing_tls.level;
  HopRequest request;
  request.hop = hop;
  request.port = port;
  request.tls = level;
  request.helo_domain = context_.host;
  // Mail for a local domain goes to the mailbox server over LMTP, as
  // Postfix's mailbox_transport = lmtp:inet:host:24 does.
  request.lmtp = group->kind == Group::Kind::kMda;
  request.on_handshake = [this, id = attempt->id, host = hop.host, level](const tls::HandshakeReport& r) {
    auto it = queue_.find(id);
    if (it == queue_.end() || context_.trace == nullptr) return;
    sim::TraceEvent e;
    describe_client_handshake(r, host, level, e);
    trace_.record(e.kind, it->second, e.text, e.explain, e.details, 0, host);
  };
  trace_.record(sim::EventKind::kQueueAttempt, m,
        absl::StrCat(courier_.reuses_connection(request) ? "reusing the open connection to " : "connecting to ",
                     hop.host, " [", hop.address, "]:", port,
                     group->route.hops.size() > 1 ? absl::StrCat(" (MX ", hop.preference, ")") : ""),
        {}, {{sim::detail_key::kNextHop, hop.host}, {sim::detail_key::kAddress, hop.address}}, 0, hop.host);
  smtp::OutgoingMessage out;
  out.reverse_path = m.reverse_path;
  out.params = m.params;
  out.params.size.reset();  // the session declares the real size
  for (std::size_t i : group->recipients) out.recipients.push_back({m.recipients[i].path, m.recipients[i].params});
  out.content = m.content;

  courier_.deliver(request, std::move(out), [this, attempt, group, hop_index, hop, level](const HopOutcome& outcome) {
    auto it = queue_.find(attempt->id);
    if (it == queue_.end()) return;
    switch (outcome.failure) {
      case HopFailure::kTlsHandshakeFailed:
        if (level == TlsLevel::kMay) {
          // Opportunistic TLS: a failed handshake is no reason not to
          // deliver; connect again and stay in plaintext.
          trace_.record(sim::EventKind::kTlsFallback, it->second,
                absl::StrCat("TLS with ", hop.host, " failed; opportunistic TLS reconnects in plaintext"), {},
                {{sim::detail_key::kNextHop, hop.host}}, 0, hop.host);
          try_hop(attempt, group, hop_index, /*plaintext=*/true);
          return;
        }
        [[fallthrough]];
      case HopFailure::kNotReached:
      case HopFailure::kTurnedAway:
      case HopFailure::kTlsPolicy: {
        // No transaction: try the next MX host (RFC 5321 5.1).
        group->last_error = outcome.reply;
        const smtp::Reply& err = group->last_error;
        const std::string status = absl::StrCat(err.code, err.enhanced.empty() ? "" : " ", err.enhanced);
        // A host that said nothing is not quoted as if it had answered: the
        // 451 4.4.1 is this MTA's own status for its queue (RFC 3463 4.4.1).
        const std::string text =
            outcome.failure == HopFailure::kTurnedAway
                ? absl::StrCat(hop.host, " turned the connection away: ", status, " ", err.text())
            : outcome.failure == HopFailure::kTlsPolicy
                ? absl::StrCat("not sent to ", hop.host, ": ", err.text(), " (this MTA's own ", status, ")")
            : outcome.failure == HopFailure::kTlsHandshakeFailed
                ? absl::StrCat("TLS with ", hop.host, " failed: ", outcome.why, " (queue status ", status, ")")
                : absl::StrCat(hop.host, " not reached: ", outcome.why, " (queue status ", status, ")");
        trace_.record(sim::EventKind::kQueueHopFailed, it->second, text, {},
              {{sim::detail_key::kNextHop, hop.host},
               {sim::detail_key::kFailure, std::string(hop_failure_name(outcome.failure))}},
              0, hop.host);
        try_hop(attempt, group, hop_index + 1);
        return;
      }
      case HopFailure::kNone:
        break;
    }
    if (outcome.maybe_delivered) {
      trace_.record(sim::EventKind::kQueueRfc1047, it->second,
            absl::StrCat("no reply after the final dot from ", hop.host, ": a retry may duplicate the message"), {},
            {{sim::detail_key::kNextHop, hop.host}}, 0, hop.host);
    }
    for (std::size_t k = 0; k < group->recipients.size(); ++k) {
      settle(attempt, group->recipients[k], outcome.recipients[k], hop.host);
    }
    group_done(attempt);
  });
}

void QueueManager::settle(std::shared_ptr<Attempt> attempt, std::size_t i, const smtp::Reply& reply, const std::string& host) {
  QueuedMessage& m = queue_.at(attempt->id);
  QueuedRecipient& r = m.recipients[i];
  r.last_reply = reply;
  r.last_host = host;
  const std::string rcpt = r.path.mailbox.to_string();
  const std::string said = absl::StrCat(reply.code, reply.enhanced.empty() ? "" : " ", reply.enhanced, " ", reply.text());
  if (reply.is_positive()) {
    r.state = QueuedRecipient::State::kDelivered;
    trace_.record(sim::EventKind::kQueueRelay, m, absl::StrCat("<", rcpt, "> handed to ", host, ": ", said), {},
          {{sim::detail_key::kRecipient, rcpt}, {sim::detail_key::kNextHop, host}, {sim::detail_key::kReply, said}}, 0, host);
  } else if (reply.is_permanent_failure()) {
    r.state = QueuedRecipient::State::kBounced;
    attempt->bounced.push_back(i);
    trace_.record(sim::EventKind::kQueueBounce, m, absl::StrCat("<", rcpt, "> refused", host.empty() ? "" : " by " + host, ": ", said),
          {}, {{sim::detail_key::kRecipient, rcpt}, {sim::detail_key::kReply, said}}, 0, host);
  } else {
    trace_.record(sim::EventKind::kQueueDefer, m, absl::StrCat("<", rcpt, "> deferred", host.empty() ? "" : " by " + host, ": ", said),
          {}, {{sim::detail_key::kRecipient, rcpt}, {sim::detail_key::kReply, said}}, 0, host);
  }
}

void QueueManager::group_done(std::shared_ptr<Attempt> attempt) {
  if (--attempt->groups_left == 0) finish_attempt(attempt);
}

void QueueManager::finish_attempt(std::shared_ptr<Attempt> attempt) {
  auto it = queue_.find(attempt->id);
  if (it == queue_.end()) return;
  QueuedMessage& m = it->second;
  m.in_flight = false;
  // The queue file is updated (or removed) only once the bounce it owes is
  // on disk too: otherwise a crash would lose the bounce, where keeping the
  // older queue file only bounces again after a restart.
  bool bounce_stored = attempt->bounced.empty() || send_dsn(m, attempt->bounced, false);
  if (m.has_pending()) {
    const absl::Duration lifetime =
        m.is_bounce ? settings_.retry.bounce_queue_lifetime : settings_.retry.maximal_queue_lifetime;
    const absl::Duration age = context_.clock.now() - m.arrival;
    if (age >= lifetime) {
      // RFC 3463 4.4.7: delivery time expired; the message is returned.
      std::vector<std::size_t> expired;
      for (std::size_t i = 0; i < m.recipients.size(); ++i) {
        QueuedRecipient& r = m.recipients[i];
        if (r.state != QueuedRecipient::State::kPending) continue;
        r.state = QueuedRecipient::State::kBounced;
        expired.push_back(i);
        trace_.record(sim::EventKind::kQueueExpire, m,
              absl::StrCat("<", r.path.mailbox.to_string(), "> given up after ", sim::duration_text(age),
                           " in the queue"),
              {}, {{sim::detail_key::kRecipient, r.path.mailbox.to_string()}});
      }
      bounce_stored = send_dsn(m, expired, true) && bounce_stored;
    } else {
      const absl::Duration delay = retry_delay(settings_.retry, m.attempts);
      const absl::Duration next = std::min(delay, lifetime - age);
      trace_.record(sim::EventKind::kQueueWait, m, absl::StrCat(m.id, " waits ", sim::duration_text(next), " before attempt ",
                                          m.attempts + 1),
            {},
            {{sim::detail_key::kNextAttemptUs, std::to_string(absl::ToInt64Microseconds(context_.clock.now() + next))},
             {sim::detail_key::kAttempt, std::to_string(m.attempts + 1)}});
      // Keeps attempts and recipient states across a restart; a failure
      // leaves the older state on disk, written again after the next attempt.
      if (bounce_stored) {
        spool_write(m, "the spool keeps its older state: after a restart, recipients settled since may get it twice");
      }
      schedule_attempt(m.id, next);
      return;
    }
  }
  trace_.record(sim::EventKind::kQueueDone, m, absl::StrCat(m.id, " leaves the queue"), {});
  if (bounce_stored) spool_remove(m, settings_.spool_remove_tries);
  queue_.erase(it);
}

}  // namespace smtplab::agents
