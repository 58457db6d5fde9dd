#include "cli/run_capture.hpp"

#include <cstdio>

#include "absl/flags/flag.h"
#include "capture/capture_export.hpp"
#include "sim/tls/key_log.hpp"

ABSL_FLAG(std::string, pcap, "",
          "Also write what crossed the wire as a pcapng capture for Wireshark: TCP streams, DNS, and a comment on "
          "each packet explaining it (docs/wireshark.md)");
ABSL_FLAG(std::string, keylog, "",
          "Append the TLS session secrets to this file (NSS key log format), so Wireshark decrypts the capture "
          "(tls.keylog_file); with step CAPTURE, the key log that came with the capture, to read its TLS sessions");

namespace smtplab::cli {

absl::StatusOr<RunCapture> RunCapture::from_flags(absl::Time epoch, const sim::Trace* trace) {
  RunCapture c;
  c.pcap_path_ = absl::GetFlag(FLAGS_pcap);
  c.keylog_path_ = absl::GetFlag(FLAGS_keylog);
  if (!c.keylog_path_.empty()) {
    if (auto st = tls::open_key_log(c.keylog_path_); !st.ok()) return st;
  }
  if (!c.pcap_path_.empty()) c.log_ = std::make_unique<capture::WireLog>(epoch, trace);
  return c;
}

absl::Status RunCapture::finish(const std::vector<sim::TraceEvent>& events,
                                const std::map<std::string, std::string>& host_addresses) {
  absl::Status result = absl::OkStatus();
  if (log_) {
    capture::CaptureOptions options;
    options.host_addresses = host_addresses;
    auto summary = capture::write_capture(pcap_path_, log_->records(), events, options);
    if (summary.ok()) {
      std::fprintf(stderr, "capture written to %s (%zu packets: %zu connections, %zu DNS queries)\n",
                   pcap_path_.c_str(), summary->packets, summary->connections, summary->dns_queries);
    } else {
      result = summary.status();
    }
  }
  if (!keylog_path_.empty()) {
    const std::size_t lines = tls::key_log_lines();
    if (auto st = tls::close_key_log(); !st.ok()) {
      if (result.ok()) result = st;
    } else {
      std::fprintf(stderr, "TLS secrets appended to %s (%zu lines)\n", keylog_path_.c_str(), lines);
    }
  }
  return result;
}

}  // namespace smtplab::cli
