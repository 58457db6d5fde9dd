// Who may open an SMTP session right now: the server-wide connection limit
// (Postfix's default_process_limit) and the per-client limit
// (smtpd_client_connection_count_limit), so that one address cannot take
// every slot. An admitted connection holds a Ticket for its whole life; the
// slot comes free when the ticket goes.
//
// A full server is under stress, as Postfix's master calls it: the gate tells
// every session, so that each shortens its timeouts (Postfix's
// ${stress?10}{300}). And a new client at a full server is let in by closing
// an idle session, as Dovecot's login processes do when their queue is full:
// otherwise a hundred silent clients would lock everyone out for the whole
// timeout. The session closed belongs to the client that holds the most
// slots, so that the newcomer's share grows only at the expense of a larger
// one (an attacker's reconnects cannot close everyone else's sessions).
//
// Thread-safe: a multi-threaded listener admits from any thread, and the
// notices go out from whichever thread admits or releases.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "agents/smtp/reply.hpp"
#include "sim/clock.hpp"

namespace smtplab::agents {

struct ConnectionLimits {
  std::size_t max_connections = 100;  // Postfix default_process_limit
  std::size_t max_per_client = 50;    // Postfix smtpd_client_connection_count_limit; 0: none
  // A new client at a full server takes the slot of a session idle this long
  // (no reply sent, no message text received), which gets a 421: one of the
  // client holding the most slots, if it holds at least two more than the
  // newcomer; of those, the one idle longest. Zero: never; the new client
  // gets the 421.
  absl::Duration evict_idle_after = absl::Seconds(1);
};

class ConnectionGate {
 public:
  // The server became full (on) or has room again (off): Postfix's stress.
  struct Stress {
    bool on;
  };
  // What the gate tells one admitted session: stress, or a reply (a 421) to
  // close with now because its slot went to a new client.
  using Notice = std::variant<Stress, smtp::Reply>;
  // Called from any thread: it must hand the notice to the session's own
  // strand (sim::Waker) and return.
  using Listener = std::function<void(const Notice&)>;

 private:
  struct Entry {
    std::string client;
    Listener listener;
    std::atomic<std::int64_t> last_progress_us{0};
    bool closing = false;  // told to close so that a new client gets its slot
  };

 public:
  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept = default;
    Ticket& operator=(Ticket&&) = delete;
    Ticket(const Ticket&) = delete;
    ~Ticket();

    // Who hears this session's notices from now on; returns whether the
    // server is under stress at this moment.
    bool listen(Listener listener);
    // The session sent a reply or received message text: it is not idle.
    void note_progress();

   private:
    friend class ConnectionGate;
    Ticket(ConnectionGate* gate, std::unique_ptr<Entry> entry) : gate_(gate), entry_(std::move(entry)) {}
    ConnectionGate* gate_;
    std::unique_ptr<Entry> entry_;  // null once moved from
  };

  // A ticket, or the 421 that replaces the greeting (RFC 5321 3.8).
  using Admission = std::variant<Ticket, smtp::Reply>;

  // `clock` measures idleness; the loopback runtime's real-time clock, or
  // the simulator's.
  ConnectionGate(ConnectionLimits limits, std::string hostname, const sim::Clock& clock)
      : limits_(limits), hostname_(std::move(hostname)), clock_(clock) {}

  // `client_address`: the address alone, without a port.
  Admission admit(std::string_view client_address);

  std::size_t active() const;  // including sessions told to close
  std::size_t active_from(std::string_view client_address) const;  // not counting those
  bool under_stress() const;

 private:
  using Delivery = std::pair<Listener, Notice>;
  void release(Entry* entry);
  // The session to close for a newcomer from `newcomer`, or null. Under mutex_.
  Entry* session_to_close_for(std::string_view newcomer) const;
  // Stress on or off as the count of sessions not closing says. Under mutex_.
  void update_stress(std::vector<Delivery>& out);
  std::size_t occupied() const { return entries_.size() - closing_; }
  std::int64_t now_us() const { return absl::ToInt64Microseconds(clock_.now()); }
  static void deliver(const std::vector<Delivery>& notices);

  const ConnectionLimits limits_;
  const std::string hostname_;
  const sim::Clock& clock_;
  mutable std::mutex mutex_;
  std::vector<Entry*> entries_;  // owned by their tickets
  std::size_t closing_ = 0;
  bool stress_ = false;
  std::map<std::string, std::size_t, std::less<>> per_client_;
};

}  // namespace smtplab::agents
