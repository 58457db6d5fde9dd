// Real TCP sockets on loopback, with Boost.Asio and Beast's tcp_stream for
// timeouts. Asio stays inside the .cpp so that including this header is cheap.
// Each connection runs on its own strand: its handler is never called from two
// threads at once, whatever the thread count.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sim/clock.hpp"
#include "sim/connection.hpp"

namespace boost::asio {
class io_context;
}

namespace smtplab::sim {

struct ListenerSettings {
  // Stop reading from a peer that does not read our replies once this much
  // output is waiting (a pipelining flood must not grow memory without bound).
  std::size_t max_pending_output = 1 << 20;
  absl::Duration initial_timeout = absl::Minutes(5);  // RFC 5321 4.5.3.2.7 server timeout
};

class LoopbackRuntime {
 public:
  explicit LoopbackRuntime(int threads = 1);
  ~LoopbackRuntime();
  LoopbackRuntime(const LoopbackRuntime&) = delete;
  LoopbackRuntime& operator=(const LoopbackRuntime&) = delete;

  // Listens on host:port (port 0 picks a free one); returns the bound port.
  absl::StatusOr<int> listen(const std::string& host, int port, HandlerFactory factory,
                             ListenerSettings settings = {});
  // Connects to host:port; the handler gets on_open, or on_closed on failure.
  // `source_address` binds the local end (a 127.0.0.x address of one host).
  void connect(const std::string& host, int port, std::unique_ptr<ConnectionHandler> handler,
               absl::Duration connect_timeout = absl::Seconds(30), const std::string& source_address = {});

  // Real time as a sim::Clock, so agents run here unchanged. With a
  // `time_scale` of 60, a 5-minute retry takes 5 seconds; now() reports
  // the scaled (virtual) time since the runtime started.
  Clock& clock();
  void set_time_scale(double scale);

  // Runs until stop(), or until there is no more work when `until_idle`.
  void run(bool until_idle = false);
  // Runs until `done()` has held for `grace` (so conversations in flight
  // finish), or until `limit` of real time passes; false on timeout. Checks
  // every 5 ms of real time, whatever the time scale. Single-threaded
  // runtimes only (done() runs on the io thread).
  bool run_until(const std::function<bool()>& done, absl::Duration limit,
                 absl::Duration grace = absl::Milliseconds(300));
  // Also stops on SIGINT or SIGTERM.
  void run_until_signal();
  void stop();

 private:
  friend boost::asio::io_context& io_context_of(LoopbackRuntime& runtime);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The runtime's event loop, for code that serves another protocol beside the
// agents on the same thread (smtplab serve's HTTP and WebSocket): it then
// reads the agents' state without locks. Include <boost/asio/io_context.hpp>
// to use it.
boost::asio::io_context& io_context_of(LoopbackRuntime& runtime);

// "127.0.0.1:2525" or "[::1]:2525" into host and port.
absl::Status split_host_port(const std::string& text, std::string& host, int& port);

}  // namespace smtplab::sim
