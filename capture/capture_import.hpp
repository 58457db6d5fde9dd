// `smtplab step CAPTURE.pcap[ng]`: a capture someone made (tcpdump,
// Wireshark, tshark -i lo, or smtplab's own --pcap) read back as a trace.
// libpcap reads the file (pcap or pcapng); packet_decode.hpp takes each frame
// down to TCP; tcp_reassembly.hpp puts the streams together; every stream to
// an SMTP port goes through an SmtpObserver. The trace it makes is what the
// stepper and the visualizer show for a run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/tcp_reassembly.hpp"
#include "capture/tls_decryption.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::capture {

struct ImportOptions {
  // The ports whose connections are read as SMTP (LMTP on 24 too).
  std::vector<std::uint16_t> smtp_ports = {25, 465, 587, 2525, 24};
  ReassemblySettings reassembly;
  // The TLS secrets that came with the capture (--keylog); null: TLS stays closed.
  const KeyLog* keys = nullptr;
};

struct ImportedCapture {
  std::vector<sim::TraceEvent> events;  // in time order, numbered from 1
  std::size_t packets = 0;
  std::size_t smtp_connections = 0;
  std::size_t other_connections = 0;  // TCP on ports not read as SMTP
  // Frames that are not TCP segments, by why (packet_decode.hpp).
  std::map<std::string, std::size_t> not_tcp;
  absl::Time first_packet;            // the trace's time 0
};

// Whether `path` starts like a capture libpcap reads (pcap in either byte
// order and precision, or pcapng): what `step` and the viz decide on.
bool looks_like_capture(const std::string& path);
// Either that, or named like one (.pcap, .pcapng, .cap), so that a broken
// capture is refused as a capture and not read as a scenario.
bool is_capture_file(const std::string& path);

// Errors name the file and the offset where reading stopped: not a capture,
// a link type it does not read, a file cut short.
absl::StatusOr<ImportedCapture> import_capture(const std::string& path, const ImportOptions& options = {});

// The same, from a capture already decoded into segments (for the tests
// and the fuzz target: no file, no libpcap).
ImportedCapture import_segments(const std::vector<TcpSegment>& segments, const ImportOptions& options = {});

}  // namespace smtplab::capture
