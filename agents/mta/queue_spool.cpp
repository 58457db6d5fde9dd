// The MTA's spool: what makes a 250 a promise (RFC 5321 6.1). Every write
// and removal of a queue file is checked; a failure is traced and handled so
// that what is on disk never claims more progress than was made: a message
// that cannot be stored is not accepted, and a queue file that cannot be
// updated or removed errs towards delivering twice, never towards losing.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/mta/queue_manager.hpp"
#include "base/absl_string_view.hpp"
#include "sim/time_text.hpp"

namespace smtplab::agents {

bool QueueManager::spool_write(const QueuedMessage& message, std::string_view consequence) {
  if (store_ == nullptr) return true;
  const absl::Status saved = store_->save(message, context_.clock.epoch() + message.arrival);
  if (saved.ok()) return true;
  trace_.record(sim::EventKind::kQueueSpoolError, message,
        absl::StrCat("cannot write ", message.id, " to the spool (", saved.message(), "): ", av(consequence)), {},
        {{sim::detail_key::kOperation, "write"}, {sim::detail_key::kError, std::string(saved.message())}});
  return false;
}

void QueueManager::spool_remove(const QueuedMessage& message, int tries_left) {
  if (store_ == nullptr) return;
  spool_retries_.erase(message.id);
  const absl::Status removed = store_->remove(message.id);
  if (removed.ok()) return;
  const bool again = tries_left > 1;
  trace_.record(sim::EventKind::kQueueSpoolError, message,
        absl::StrCat("cannot remove ", message.id, " from the spool (", removed.message(), "): ",
                     again ? absl::StrCat("trying again in ", sim::duration_text(settings_.spool_retry_delay))
                           : "giving up; after a restart it would be delivered again"),
        {}, {{sim::detail_key::kOperation, "remove"}, {sim::detail_key::kError, std::string(removed.message())}});
  if (!again) return;
  // Only what the trace needs: the message itself has left the queue.
  QueuedMessage gone;
  gone.id = message.id;
  gone.message_id = message.message_id;
  spool_retries_[message.id] = context_.clock.schedule(
      settings_.spool_retry_delay, [this, gone, tries_left] { spool_remove(gone, tries_left - 1); });
}

absl::Status QueueManager::recover() {
  if (store_ == nullptr) return absl::OkStatus();
  auto loaded = store_->load();
  if (!loaded.ok()) return loaded.status();
  for (auto& [message, arrival_wall] : *loaded) {
    // Queue ids continue after the highest one found.
    std::uint64_t n = 0;
    if (message.id.size() > 1 && absl::SimpleAtoi(message.id.substr(1), &n) && n >= next_id_) next_id_ = n + 1;
    message.arrival = arrival_wall - context_.clock.epoch();
    message.in_flight = false;
    trace_.record(sim::EventKind::kQueueRecover, message, absl::StrCat("found ", message.id, " in the spool after a restart"),
          {});
    const std::string id = message.id;
    queue_.emplace(id, std::move(message));
    schedule_attempt(id, absl::ZeroDuration());
  }
  return absl::OkStatus();
}


}  // namespace smtplab::agents
