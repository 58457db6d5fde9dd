// `--pcap OUT.pcapng`: a run's wire log, with its trace for the comments,
// written as a capture Wireshark reads as SMTP: every connection a TCP
// stream (tcp_conversation.hpp), every lookup of the simulated resolver a
// DNS query and answer over UDP port 53, every packet commented with the
// trace events that explain it (packet_comments.hpp).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "capture/wire_log.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::capture {

struct CaptureOptions {
  // Each host's address, for the DNS packets of the hosts that ask.
  std::map<std::string, std::string> host_addresses;
  // Where the world's resolver is; empty: the first of 192.0.2.53,
  // 198.51.100.53, 203.0.113.53 that no host has.
  std::string resolver_address;
};

struct CaptureSummary {
  std::size_t packets = 0;
  std::size_t connections = 0;
  std::size_t dns_queries = 0;
  // Records left out: an address that is not one, a name DNS cannot carry.
  std::size_t skipped = 0;
};

absl::StatusOr<CaptureSummary> write_capture(const std::string& path, const std::vector<WireRecord>& records,
                                             const std::vector<sim::TraceEvent>& events,
                                             const CaptureOptions& options);

}  // namespace smtplab::capture
