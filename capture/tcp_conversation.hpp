// The packets of one TCP connection, reconstructed from what its two ends
// wrote: the three-way handshake, a segment per write (cut at the MSS), the
// acknowledgements a receiver's stack sends, FIN or RST at the end. The
// simulator has no TCP of its own, so sequence numbers, ACKs and the closing
// FIN of an end that only saw its peer's are made here, the way a Linux
// stack makes them (RFC 9293 3.5, 3.6; delayed ACKs as RFC 1122 4.2.3.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "capture/packets.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::capture {

struct Frame {
  absl::Time at;
  std::string bytes;
  std::vector<std::string> comments;
};

// Hands out IPv4 identification numbers, one per packet of the capture.
class IpIds {
 public:
  std::uint16_t next() { return ++last_; }

 private:
  std::uint16_t last_ = 0;
};

class TcpConversation {
 public:
  // `id` seeds the initial sequence numbers, so that a run's capture is the
  // same every time.
  TcpConversation(SocketAddress client, SocketAddress server, std::uint64_t id, IpIds& ip_ids);

  // Each adds its frames to `out` and returns the index of the one a
  // comment about it belongs on (none: nothing went out).
  std::optional<std::size_t> open(absl::Time at, std::vector<Frame>& out);
  // A write of `bytes`: segments of at most one MSS, PSH on the last.
  std::optional<std::size_t> data(absl::Time at, sim::WireSide from, std::string_view bytes, std::vector<Frame>& out);
  std::optional<std::size_t> close(absl::Time at, sim::WireSide from, std::vector<Frame>& out);
  std::optional<std::size_t> reset(absl::Time at, std::vector<Frame>& out);
  // The end of the capture: ACKs still owed, and the FIN of an end whose
  // peer closed first (its stack answers the FIN when the program closes).
  void finish(std::vector<Frame>& out);

  // A connection attempt nobody listens for: SYN, then the RST.
  static std::optional<std::size_t> refused(absl::Time at, const SocketAddress& client, const SocketAddress& server,
                             std::uint64_t id, IpIds& ip_ids, std::vector<Frame>& out);
  // A connection attempt nothing answers: the SYN and its retransmissions
  // (after 1, 3, 7, 15, 31 s: Linux's doubling timeout) while the client waits.
  static std::optional<std::size_t> unanswered(absl::Time at, const SocketAddress& client, const SocketAddress& server,
                                std::uint64_t id, absl::Duration waited, IpIds& ip_ids, std::vector<Frame>& out);

 private:
  static int index(sim::WireSide side) { return side == sim::WireSide::kClient ? 0 : 1; }
  std::size_t emit(absl::Time at, int from, std::uint8_t flags, std::string_view payload, std::vector<Frame>& out,
                   std::uint16_t mss = 0);
  // Sends the ACKs that fell due before `at`.
  void acks_due_before(absl::Time at, std::vector<Frame>& out);

  SocketAddress end_[2];  // 0: the client, 1: the server
  std::uint32_t next_seq_[2];
  std::optional<absl::Time> ack_due_[2];  // when end i sends the ACK it owes
  std::optional<absl::Time> fin_at_[2];
  bool reset_ = false;
  IpIds& ip_ids_;
};

}  // namespace smtplab::capture
