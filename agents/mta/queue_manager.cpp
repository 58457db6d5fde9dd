// The queue manager's intake, timers and bounces; one attempt's work is in
// queue_delivery.cpp, the spool in queue_spool.cpp.
#include "agents/mta/queue_manager.hpp"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agents/mta/dsn.hpp"

namespace smtplab::agents {

QueueManager::QueueManager(const HostContext& context, const MtaSettings& settings)
    : context_(context),
      settings_(settings),
      trace_(context_, settings_.agent_name),
      courier_(context_, SmtpCourierSettings{settings_.outgoing_tls, settings_.client_timeouts,
                                             settings_.connect_timeout, settings_.connection_cache}) {
  if (context_.dns != nullptr) router_ = std::make_unique<MxRouter>(*context_.dns, context_.host, context_.rng);
}

QueueManager::~QueueManager() {
  for (const auto& [id, scheduled] : timers_) context_.clock.cancel(scheduled.timer);
  for (const auto& [id, timer] : spool_retries_) context_.clock.cancel(timer);
}

std::string QueueManager::next_queue_id() { return absl::StrFormat("Q%06d", next_id_++); }

absl::Status QueueManager::accept(QueuedMessage message, const Arrival& arrival) {
  if (!spool_write(message, "not accepted: the client is answered 451 and keeps the message")) {
    return absl::UnavailableError("queue file write error");
  }
  enqueue(std::move(message), arrival);
  return absl::OkStatus();
}

QueuedMessage& QueueManager::enqueue(QueuedMessage message, const Arrival& arrival) {
  const std::string id = message.id;
  auto [it, inserted] = queue_.emplace(id, std::move(message));
  QueuedMessage& m = it->second;
  std::string to;
  for (const auto& r : m.recipients) absl::StrAppend(&to, to.empty() ? "" : ",", r.path.mailbox.to_string());
  QueueTracer::Details details = {{sim::detail_key::kQueueId, m.id},
                                  {sim::detail_key::kFrom, m.reverse_path.to_string()},
                                  {sim::detail_key::kTo, to},
                                  {sim::detail_key::kOctets, std::to_string(m.content.size())},
                                  {sim::detail_key::kOrigin, arrival.origin}};
  // The message itself, for the visualizer's inspector: what this hop added,
  // or (a bounce we made) the whole notification. Full traces only.
  if (trace_.full()) {
    if (!arrival.added.empty()) details.emplace_back(sim::detail_key::kAdded, arrival.added);
    if (m.is_bounce && arrival.origin == "dsn") details.emplace_back(sim::detail_key::kContent, m.content.substr(0, 8192));
  }
  trace_.record(sim::EventKind::kQueueEnqueue, m, absl::StrCat("queued ", m.id, " from ", m.reverse_path.to_string(), " for ", to),
        {}, std::move(details), arrival.connection);
  schedule_attempt(id, absl::ZeroDuration());
  return m;
}

void QueueManager::schedule_attempt(const std::string& id, absl::Duration delay) {
  if (auto it = timers_.find(id); it != timers_.end()) context_.clock.cancel(it->second.timer);
  const sim::TimerId timer = context_.clock.schedule(delay, [this, id] {
    timers_.erase(id);
    start_attempt(id);
  });
  timers_[id] = Scheduled{timer, context_.clock.now() + delay};
}

std::optional<absl::Duration> QueueManager::next_attempt(const std::string& queue_id) const {
  auto it = timers_.find(queue_id);
  if (it == timers_.end()) return std::nullopt;
  return it->second.due;
}

bool QueueManager::send_dsn(const QueuedMessage& m, const std::vector<std::size_t>& recipients, bool expired) {
  if (m.reverse_path.is_null) {
    // RFC 5321 4.5.5 / RFC 3464: never bounce a bounce (that way lie loops).
    trace_.record(sim::EventKind::kQueueBounceDropped, m, "the message has the null sender <>: no notification is sent",
          {});
    return true;
  }
  DsnInput in;
  in.reporting_mta = context_.host;
  in.original_sender = m.reverse_path.mailbox.to_string();
  in.original_message = m.content;
  in.arrival_date = context_.clock.epoch() + m.arrival;
  in.now = context_.clock.wall_now();
  QueuedMessage dsn;
  dsn.id = next_queue_id();
  in.dsn_message_id = absl::StrCat(dsn.id, ".dsn@", context_.host);
  for (std::size_t i : recipients) {
    const QueuedRecipient& r = m.recipients[i];
    DsnRecipient d;
    d.final_recipient = r.path.mailbox.to_string();
    const smtp::Reply reply = r.last_reply.value_or(smtp::make_reply(550, "5.0.0", "failed"));
    d.status = expired ? "4.4.7" : (reply.enhanced.empty() ? absl::StrCat(reply.klass(), ".0.0") : reply.enhanced);
    d.remote_mta = r.last_host;
    d.diagnostic = absl::StrCat(reply.code, " ", reply.enhanced.empty() ? "" : reply.enhanced + " ", reply.text());
    if (expired) d.diagnostic = absl::StrCat("delivery time expired; last error: ", d.diagnostic);
    in.recipients.push_back(d);
  }
  dsn.content = compose_dsn(in);
  dsn.message_id = in.dsn_message_id;
  dsn.reverse_path.is_null = true;  // RFC 3464 / RFC 5321 4.5.5: bounces go out with MAIL FROM:<>
  dsn.is_bounce = true;
  dsn.recipients.push_back({m.reverse_path, {}});
  dsn.arrival = context_.clock.now();
  trace_.record(sim::EventKind::kMessageDsn, m, absl::StrCat("bounce ", dsn.id, " to ", m.reverse_path.to_string(), " for ",
                                       recipients.size(), " recipient(s)"),
        {}, {{sim::detail_key::kDsnQueueId, dsn.id}, {sim::detail_key::kDsnMessageId, dsn.message_id}});
  // Stored before the original's queue file changes: a crash then loses neither.
  const bool stored = spool_write(dsn, absl::StrCat("sent from memory; ", m.id,
                                                    "'s queue file keeps its older state, so a restart bounces again"));
  enqueue(std::move(dsn), Arrival{0, "dsn", {}});
  return stored;
}

}  // namespace smtplab::agents
