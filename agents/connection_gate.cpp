#include "agents/connection_gate.hpp"

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

ConnectionGate::Ticket::~Ticket() {
  if (gate_ != nullptr) gate_->release(client_);
}

ConnectionGate::Admission ConnectionGate::admit(std::string_view client_address) {
  std::lock_guard lock(mutex_);
  if (active_ >= limits_.max_connections) {
    return smtp::make_reply(421, "4.7.0", absl::StrCat(hostname_, " Error: too many connections"));
  }
  auto it = per_client_.find(client_address);
  const std::size_t from_client = it == per_client_.end() ? 0 : it->second;
  if (limits_.max_per_client != 0 && from_client >= limits_.max_per_client) {
    return smtp::make_reply(421, "4.7.0",
                            absl::StrCat(hostname_, " Error: too many connections from ", av(client_address)));
  }
  ++active_;
  if (it == per_client_.end()) it = per_client_.emplace(std::string(client_address), 0).first;
  ++it->second;
  return Ticket(this, std::string(client_address));
}

void ConnectionGate::release(const std::string& client) {
  std::lock_guard lock(mutex_);
  --active_;
  if (auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0) per_client_.erase(it);
}

std::size_t ConnectionGate::active() const {
  std::lock_guard lock(mutex_);
  return active_;
}

std::size_t ConnectionGate::active_from(std::string_view client_address) const {
  std::lock_guard lock(mutex_);
  auto it = per_client_.find(client_address);
  return it == per_client_.end() ? 0 : it->second;
}

}  // namespace smtplab::agents
