// TCP streams put back together from the segments of a capture, in order,
// each octet once: segments out of order wait for the gap before them,
// retransmitted and overlapping ones give only what was not delivered yet
// (the first copy wins, as most stacks do), and a stream whose start is not
// in the capture begins where the capture does (said so: `midstream`).
// Sans-I/O: segments in, events out, in the order they became readable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "capture/packets.hpp"

namespace smtplab::capture {

// What a capture's packet carries at the TCP level.
struct TcpSegment {
  absl::Time at;
  SocketAddress src, dst;
  std::uint32_t seq = 0;
  std::uint8_t flags = 0;  // tcp_flag::*
  std::string_view payload;
};

struct StreamEvent {
  enum class Kind {
    kOpen,   // the first packet of a stream (its SYN, or whatever came first)
    kBytes,  // octets that follow on from the last ones, from one side
    kGap,    // octets that are not in the capture (`missing` of them); the stream goes on after them
    kClose,  // this side sent its FIN (and everything before it has been given)
    kReset,
  };
  Kind kind;
  absl::Time at;
  std::size_t stream = 0;   // index into TcpReassembler::streams()
  bool from_client = true;
  std::string bytes;        // kBytes
  std::uint64_t missing = 0;  // kGap
};

struct StreamInfo {
  SocketAddress client, server;
  bool midstream = false;  // its SYN is not in the capture: it starts where the capture does
};

struct ReassemblySettings {
  // Out-of-order octets held per direction while a gap waits to be filled;
  // past this the gap is given up as lost and the stream goes on.
  std::size_t max_buffered = 4 * 1024 * 1024;
  std::size_t max_streams = 100000;  // further connections are left out (counted)
  // Ports a server listens on, to tell the ends apart when no SYN says it.
  std::vector<std::uint16_t> server_ports = {25, 465, 587, 2525, 24, 110, 143, 993, 995};
};

class TcpReassembler {
 public:
  explicit TcpReassembler(ReassemblySettings settings = {}) : settings_(std::move(settings)) {}

  void add(const TcpSegment& segment, std::vector<StreamEvent>& out);
  // The end of the capture: what still waits behind a gap is given, after the gap.
  void finish(std::vector<StreamEvent>& out);

  const std::vector<StreamInfo>& streams() const { return streams_; }
  std::size_t streams_left_out() const { return left_out_; }

 private:
  // Positions count octets from the start of a direction's stream in 64
  // bits; a segment's 32-bit sequence number is placed relative to the next
  // one expected, so wrapping around 2^32 is nothing special.
  struct Direction {
    bool started = false;
    std::uint32_t next_seq = 0;  // the sequence number of the next octet to give
    std::uint64_t next_pos = 0;  // and its position
    std::map<std::uint64_t, std::string> waiting;  // octets past a gap, by position
    std::size_t waiting_bytes = 0;
    std::optional<std::uint64_t> fin_pos;  // where this side's FIN is
    bool closed = false;
    std::uint64_t position_of(std::uint32_t seq) const {
      return next_pos + static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int32_t>(seq - next_seq)));
    }
  };
  struct Stream {
    std::size_t index;
    Direction side[2];  // 0: from the client, 1: from the server
    bool reset = false;
    absl::Time last_seen;  // the stream's last packet
  };
  using Key = std::string;  // both ends, in a fixed order

  static Key key_of(const SocketAddress& a, const SocketAddress& b);
  Stream* find_or_open(const TcpSegment& s, std::vector<StreamEvent>& out);
  // Gives what is now contiguous, and the FIN when it is reached.
  void drain(Stream& st, int side, absl::Time at, std::vector<StreamEvent>& out);
  void give_up_gap(Stream& st, int side, absl::Time at, std::vector<StreamEvent>& out);

  ReassemblySettings settings_;
  std::vector<StreamInfo> streams_;
  absl::flat_hash_map<Key, Stream> open_;
  std::size_t left_out_ = 0;
};

}  // namespace smtplab::capture
