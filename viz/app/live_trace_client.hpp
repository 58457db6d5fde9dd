// Follows a live trace (smtplab serve's WebSocket, ws://HOST:PORT/trace) on
// a thread of its own: each frame is JSON Lines, parsed there, and the
// window takes what has arrived once per frame. The window thread never
// waits on the network.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

struct WebSocketUrl {
  std::string host;  // an IP address or localhost
  int port = 0;
  std::string path = "/trace";
};
// "ws://127.0.0.1:8025/trace" (the path defaults to /trace).
absl::StatusOr<WebSocketUrl> parse_websocket_url(const std::string& url);

class LiveTraceClient {
 public:
  explicit LiveTraceClient(WebSocketUrl url);
  ~LiveTraceClient();  // hangs up and joins the thread
  LiveTraceClient(const LiveTraceClient&) = delete;
  LiveTraceClient& operator=(const LiveTraceClient&) = delete;

  // The events that arrived since the last call, in order.
  std::vector<sim::TraceEvent> take();
  // "connecting to ...", "live: 1234 events", or why the stream ended.
  std::string status() const;
  bool ended() const;
  std::size_t received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smtplab::viz
