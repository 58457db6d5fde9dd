// Writes a pcapng file (draft-ietf-opsawg-pcapng): one Section Header Block,
// one Interface Description Block for an Ethernet interface with microsecond
// timestamps, then an Enhanced Packet Block per frame, each with its
// comments (opt_comment). libpcap reads pcapng but cannot write it, so
// these few blocks are written here, little-endian, each padded to 32 bits:
//
//   block:  type (4) | total length (4) | body | total length (4)
//   SHB  0x0A0D0D0A: byte-order magic 0x1A2B3C4D, version 1.0, section length -1, options
//   IDB  0x00000001: link type 1 (Ethernet), reserved, snap length, options
//   EPB  0x00000006: interface 0, timestamp (high, low), captured and original length, frame, options
//   option: code (2) | length (2) | value padded to 32 bits; the list ends with code 0
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace smtplab::capture {

class PcapngWriter {
 public:
  // Creates `path` and writes the section and interface headers.
  static absl::StatusOr<PcapngWriter> create(const std::string& path, std::string_view interface_name);
  PcapngWriter(PcapngWriter&& other) noexcept;
  PcapngWriter& operator=(PcapngWriter&&) = delete;
  ~PcapngWriter();

  absl::Status write_packet(absl::Time at, std::string_view frame, const std::vector<std::string>& comments);
  // Flushes and closes; the error of the last write or of closing.
  absl::Status close();

 private:
  PcapngWriter(std::FILE* file, std::string path) : file_(file), path_(std::move(path)) {}
  absl::Status write_block(std::uint32_t type, const std::string& body);

  std::FILE* file_;
  std::string path_;
};

}  // namespace smtplab::capture
