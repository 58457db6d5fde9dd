// One byte-stream connection, as the agents see it. A link (in-process, or
// loopback TCP) implements Connection; whoever speaks over it implements
// ConnectionHandler. Agents never learn which kind of link they are on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace smtplab::sim {

// What restarts a connection's timeout.
enum class TimeoutClock {
  // Any byte in or out: the idle timeouts of RFC 5321 4.5.3.2.
  kIdle,
  // Only what we write (the reply that ends a request): a deadline per
  // request, Postfix's smtpd_per_request_deadline, so that a peer trickling a
  // byte at a time cannot hold the connection. The handler grants time for
  // data received with extend_timeout() (Postfix's smtpd_min_data_rate).
  kPerRequest,
};

// Runs a task on one connection's own strand, between its handler's
// callbacks, then sends what the task queued. Callable from any thread; once
// the connection has closed, the task is dropped.
using Waker = std::function<void(std::function<void()> task)>;

class Connection {
 public:
  virtual ~Connection() = default;
  // Queues bytes; they are written in order after the current callback returns.
  virtual void send(std::string_view bytes) = 0;
  // Closes once every queued byte is written.
  virtual void close() = 0;
  // How long the handler waits for the peer before on_timeout() (RFC 5321 4.5.3.2).
  virtual void set_timeout(absl::Duration timeout) = 0;
  virtual void set_timeout_clock(TimeoutClock clock) = 0;
  // Under TimeoutClock::kPerRequest: adds `credit` to the time left, never
  // beyond one whole timeout. Does nothing under kIdle.
  virtual void extend_timeout(absl::Duration credit) = 0;
  virtual Waker waker() = 0;
  virtual std::string peer_address() const = 0;   // "127.0.0.1:54321"
  virtual std::string local_address() const = 0;
  // Unique within a run and the same at both ends: ties trace events together.
  virtual std::uint64_t id() const = 0;
};

class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  // The connection is up; `connection` stays valid until on_closed().
  virtual void on_open(Connection& connection) = 0;
  virtual void on_bytes(std::string_view bytes) = 0;
  // The peer said nothing for the whole timeout.
  virtual void on_timeout() = 0;
  // Called once, last: closed by either side, failed to connect, or reset.
  virtual void on_closed(std::string_view why) = 0;
};

struct ConnectionInfo {
  std::string peer_address;
  std::string local_address;
  std::size_t active_connections = 0;  // including this one
  std::uint64_t connection_id = 0;
  std::string peer_host;  // the peer's host name where the link knows it (the simulator does)
};

// The address in a peer_address: "192.0.2.7" of "192.0.2.7:4000", "::1" of
// "[::1]:4000".
inline std::string_view address_part(std::string_view peer_address) {
  if (!peer_address.empty() && peer_address[0] == '[') {
    return peer_address.substr(1, peer_address.find(']') - 1);
  }
  return peer_address.substr(0, peer_address.rfind(':'));
}

// Makes the handler for each accepted connection (of a listener).
using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(const ConnectionInfo&)>;

}  // namespace smtplab::sim
