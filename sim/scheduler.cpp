#include "sim/scheduler.hpp"

namespace smtplab::sim {

TimerId Scheduler::schedule(absl::Duration delay, std::function<void()> callback) {
  return schedule_at(now_ + (delay < absl::ZeroDuration() ? absl::ZeroDuration() : delay), std::move(callback));
}

TimerId Scheduler::schedule_at(absl::Duration when, std::function<void()> callback) {
  const TimerId id = next_id_++;
  queue_.push(Entry{when < now_ ? now_ : when, next_sequence_++, id});
  callbacks_.emplace(id, std::move(callback));
  return id;
}

bool Scheduler::cancel(TimerId id) { return callbacks_.erase(id) > 0; }

bool Scheduler::run_one() {
  while (!queue_.empty()) {
    const Entry entry = queue_.top();
    queue_.pop();
    auto it = callbacks_.find(entry.id);
    if (it == callbacks_.end()) continue;  // cancelled
    std::function<void()> callback = std::move(it->second);
    callbacks_.erase(it);
    now_ = entry.when;
    ++events_run_;
    callback();
    return true;
  }
  return false;
}

void Scheduler::run_until(absl::Duration until) {
  while (!queue_.empty()) {
    // Skip cancelled entries without advancing time past `until`.
    const Entry& top = queue_.top();
    if (!callbacks_.contains(top.id)) {
      queue_.pop();
      continue;
    }
    if (top.when > until) break;
    run_one();
  }
  if (now_ < until) now_ = until;
}

std::size_t Scheduler::run(std::size_t max_events) {
  std::size_t ran = 0;
  while (ran < max_events && run_one()) ++ran;
  return ran;
}

}  // namespace smtplab::sim
