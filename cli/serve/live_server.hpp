// The HTTP and WebSocket side of `smtplab serve`, on the same event loop as
// the scenario's agents (so it reads their state without locks):
//
//   * GET requests are answered by answer_api (live_api.hpp).
//   * A WebSocket on /trace gets the whole trace so far, then every new
//     event as it is recorded: text frames of JSON Lines (one event per
//     line, the format of docs/trace.md), so the concatenated frames are a
//     valid trace file. smtplab-viz --attach reads it.
//
// Bounded: requests over 16 KiB are refused, idle HTTP connections close
// after 30 s, and a viewer that falls 64 MiB behind is disconnected rather
// than let memory grow.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/serve/live_api.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace smtplab::cli {

class LiveServer {
 public:
  // Subscribes to `world`'s trace; both must outlive the server.
  LiveServer(sim::LoopbackRuntime& runtime, scenarios::ScenarioWorld& world, ServeInfo info);
  ~LiveServer();
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;

  // Listens on address:port (port 0: a free one); returns the port.
  absl::StatusOr<int> listen(const std::string& address, int port);
  // How many trace viewers are connected now.
  std::size_t viewers() const;

  struct Impl;  // in the .cpp, with the sessions that hold it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace smtplab::cli
