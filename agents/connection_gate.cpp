#include "agents/connection_gate.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

ConnectionGate::Ticket::~Ticket() {
  if (entry_ != nullptr) gate_->release(entry_.get());
}

bool ConnectionGate::Ticket::listen(Listener listener) {
  std::lock_guard lock(gate_->mutex_);
  entry_->listener = std::move(listener);
  return gate_->stress_;
}

void ConnectionGate::Ticket::note_progress() {
  entry_->last_progress_us.store(gate_->now_us(), std::memory_order_relaxed);
}

ConnectionGate::Admission ConnectionGate::admit(std::string_view client_address) {
  std::vector<Delivery> notices;
  std::unique_ptr<Entry> entry;
  {
    std::lock_guard lock(mutex_);
    auto it = per_client_.find(client_address);
    const std::size_t from_client = it == per_client_.end() ? 0 : it->second;
    if (limits_.max_per_client != 0 && from_client >= limits_.max_per_client) {
      return smtp::make_reply(421, "4.7.0",
                              absl::StrCat(hostname_, " Error: too many connections from ", av(client_address)));
    }
    if (occupied() >= limits_.max_connections) {
      Entry* idle = session_to_close_for(client_address);
      if (idle == nullptr) return smtp::make_reply(421, "4.7.0", absl::StrCat(hostname_, " Error: too many connections"));
      // From now on it counts for nobody: not toward the server's limit, not
      // toward its client's share.
      idle->closing = true;
      ++closing_;
      if (auto held = per_client_.find(idle->client); --held->second == 0) per_client_.erase(held);
      notices.emplace_back(idle->listener,
                           smtp::make_reply(421, "4.7.0",
                                            absl::StrCat(hostname_, " Error: too many connections; closing an idle "
                                                                    "session to serve another client")));
    }
    it = per_client_.find(client_address);  // closing one may have erased a count
    entry = std::make_unique<Entry>();
    entry->client = std::string(client_address);
    entry->last_progress_us.store(now_us(), std::memory_order_relaxed);
    entries_.push_back(entry.get());
    if (it == per_client_.end()) it = per_client_.emplace(std::string(client_address), 0).first;
    ++it->second;
    update_stress(notices);
  }
  deliver(notices);
  return Ticket(this, std::move(entry));
}

ConnectionGate::Entry* ConnectionGate::session_to_close_for(std::string_view newcomer) const {
  if (limits_.evict_idle_after <= absl::ZeroDuration()) return nullptr;
  const std::int64_t idle_since = now_us() - absl::ToInt64Microseconds(limits_.evict_idle_after);
  auto count_of = [this](std::string_view client) -> std::size_t {
    auto it = per_client_.find(client);
    return it == per_client_.end() ? 0 : it->second;
  };
  // Only a swap that evens out the shares: the victim's client keeps at
  // least as many slots as the newcomer then has. Otherwise an attacker who
  // reconnects at once would close everyone else's sessions, its own
  // included, and no session would ever live long enough to be served.
  const std::size_t newcomer_holds = count_of(newcomer);
  Entry* best = nullptr;
  std::size_t best_holds = 0;
  for (Entry* e : entries_) {
    // Only a session that listens can be told to close.
    if (e->closing || !e->listener) continue;
    const std::int64_t last = e->last_progress_us.load(std::memory_order_relaxed);
    if (last > idle_since) continue;
    const std::size_t holds = count_of(e->client);
    if (holds < newcomer_holds + 2) continue;
    if (best == nullptr || holds > best_holds ||
        (holds == best_holds && last < best->last_progress_us.load(std::memory_order_relaxed))) {
      best = e;
      best_holds = holds;
    }
  }
  return best;
}

void ConnectionGate::update_stress(std::vector<Delivery>& out) {
  // On when full; off only once a quarter of the slots are free again, so
  // that one session coming and going does not flip every timeout.
  const bool on = stress_ ? occupied() > limits_.max_connections * 3 / 4 : occupied() >= limits_.max_connections;
  if (on == stress_) return;
  stress_ = on;
  for (Entry* e : entries_) {
    if (e->listener && !e->closing) out.emplace_back(e->listener, Stress{on});
  }
}

void ConnectionGate::deliver(const std::vector<Delivery>& notices) {
  for (const auto& [listener, notice] : notices) {
    if (listener) listener(notice);
  }
}

void ConnectionGate::release(Entry* entry) {
  std::vector<Delivery> notices;
  {
    std::lock_guard lock(mutex_);
    entries_.erase(std::find(entries_.begin(), entries_.end(), entry));
    if (entry->closing) {
      --closing_;  // its client's count went down when it was told to close
    } else if (auto it = per_client_.find(entry->client); --it->second == 0) {
      per_client_.erase(it);
    }
    update_stress(notices);
  }
  deliver(notices);
}

std::size_t ConnectionGate::active() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::size_t ConnectionGate::active_from(std::string_view client_address) const {
  std::lock_guard lock(mutex_);
  auto it = per_client_.find(client_address);
  return it == per_client_.end() ? 0 : it->second;
}

bool ConnectionGate::under_stress() const {
  std::lock_guard lock(mutex_);
  return stress_;
}

}  // namespace smtplab::agents
