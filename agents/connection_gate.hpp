// Who may open an SMTP session right now: the server-wide connection limit
// (Postfix's default_process_limit) and the per-client limit
// (smtpd_client_connection_count_limit), so that one address cannot take
// every slot. An admitted connection holds a Ticket for its whole life; the
// slot comes free when the ticket goes. Thread-safe: a multi-threaded
// listener admits from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "agents/smtp/reply.hpp"

namespace smtplab::agents {

struct ConnectionLimits {
  std::size_t max_connections = 100;  // Postfix default_process_limit
  std::size_t max_per_client = 50;    // Postfix smtpd_client_connection_count_limit; 0: none
};

class ConnectionGate {
 public:
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : gate_(other.gate_), client_(std::move(other.client_)) { other.gate_ = nullptr; }
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket();

   private:
    friend class ConnectionGate;
    Ticket(ConnectionGate* gate, std::string client) : gate_(gate), client_(std::move(client)) {}
    ConnectionGate* gate_;
    std::string client_;
  };

  // A ticket, or the 421 that replaces the greeting (RFC 5321 3.8).
  using Admission = std::variant<Ticket, smtp::Reply>;

  ConnectionGate(ConnectionLimits limits, std::string hostname)
      : limits_(limits), hostname_(std::move(hostname)) {}

  // `client_address`: the address alone, without a port.
  Admission admit(std::string_view client_address);

  std::size_t active() const;
  std::size_t active_from(std::string_view client_address) const;

 private:
  void release(const std::string& client);

  const ConnectionLimits limits_;
  const std::string hostname_;
  mutable std::mutex mutex_;
  std::size_t active_ = 0;
  std::map<std::string, std::size_t, std::less<>> per_client_;
};

}  // namespace smtplab::agents
