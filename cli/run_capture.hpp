// --pcap FILE and --keylog FILE on the commands that put SMTP on a wire
// (run, step, serve, conform): the wire log is attached before the first
// connection, and the capture written once the run is over, or, for serve,
// once it is stopped (capture/capture_export.hpp).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "capture/wire_log.hpp"

namespace smtplab::cli {

class RunCapture {
 public:
  // Reads the flags and opens the key log they ask for. `epoch` is when
  // the run's clock reads zero; `trace` (may be null) explains the packets.
  // Call before anything makes a TLS context or a connection.
  static absl::StatusOr<RunCapture> from_flags(absl::Time epoch, const sim::Trace* trace);
  // What to tell of the wire; null when --pcap was not given.
  sim::WireObserver* observer() { return log_.get(); }
  // Writes the capture and closes the key log, saying so on stderr.
  // `host_addresses` places the hosts that ask DNS.
  absl::Status finish(const std::vector<sim::TraceEvent>& events,
                      const std::map<std::string, std::string>& host_addresses = {});

 private:
  std::string pcap_path_, keylog_path_;
  std::unique_ptr<capture::WireLog> log_;
};

}  // namespace smtplab::cli
