#include "capture/tcp_conversation.hpp"

namespace smtplab::capture {
namespace {

// A receiver's stack acknowledges at least every second full segment at
// once, and otherwise within its delayed-ACK timer (RFC 1122 4.2.3.2;
// Linux waits 40 ms).
constexpr absl::Duration kDelayedAck = absl::Milliseconds(40);

std::uint32_t initial_sequence(std::uint64_t id, int side) {
  // Any fixed spread will do; these only have to differ per connection and end.
  return static_cast<std::uint32_t>((id * 0x9E3779B1ULL) ^ (side == 0 ? 0x1000000ULL : 0x7000000ULL));
}

std::size_t mss_for(const SocketAddress& a) { return a.ip.v6 ? kMss6 : kMss4; }

}  // namespace

TcpConversation::TcpConversation(SocketAddress client, SocketAddress server, std::uint64_t id, IpIds& ip_ids)
    : end_{client, server}, next_seq_{initial_sequence(id, 0), initial_sequence(id, 1)}, ip_ids_(ip_ids) {}

std::size_t TcpConversation::emit(absl::Time at, int from, std::uint8_t flags, std::string_view payload,
                                  std::vector<Frame>& out, std::uint16_t mss) {
  TcpHeader h;
  h.seq = next_seq_[from];
  h.flags = flags;
  h.mss = mss;
  if (flags & tcp_flag::kAck) {
    h.ack = next_seq_[1 - from];
    ack_due_[from].reset();  // whatever this end owed is acknowledged now
  }
  out.push_back({at, tcp_frame(end_[from], end_[1 - from], h, payload, ip_ids_.next()), {}});
  next_seq_[from] += static_cast<std::uint32_t>(payload.size());
  if (flags & (tcp_flag::kSyn | tcp_flag::kFin)) next_seq_[from] += 1;  // each takes one sequence number
  if (!payload.empty() || (flags & tcp_flag::kFin)) {
    if (!ack_due_[1 - from]) ack_due_[1 - from] = at + kDelayedAck;
  }
  return out.size() - 1;
}

void TcpConversation::acks_due_before(absl::Time at, std::vector<Frame>& out) {
  if (reset_) return;
  for (int side = 0; side < 2; ++side) {
    if (ack_due_[side] && *ack_due_[side] < at) emit(*ack_due_[side], side, tcp_flag::kAck, {}, out);
  }
}

std::optional<std::size_t> TcpConversation::open(absl::Time at, std::vector<Frame>& out) {
  const std::size_t syn = emit(at, 0, tcp_flag::kSyn, {}, out, static_cast<std::uint16_t>(mss_for(end_[0])));
  emit(at, 1, tcp_flag::kSyn | tcp_flag::kAck, {}, out, static_cast<std::uint16_t>(mss_for(end_[1])));
  emit(at, 0, tcp_flag::kAck, {}, out);
  ack_due_[0].reset();
  ack_due_[1].reset();
  return syn;
}

std::optional<std::size_t> TcpConversation::data(absl::Time at, sim::WireSide from, std::string_view bytes, std::vector<Frame>& out) {
  acks_due_before(at, out);
  const int f = index(from);
  if (reset_ || fin_at_[f]) return std::nullopt;  // nothing goes out after a FIN or a reset
  const std::size_t mss = mss_for(end_[f]);
  std::optional<std::size_t> last;
  int full_segments = 0;
  while (!bytes.empty()) {
    const std::string_view part = bytes.substr(0, mss);
    bytes.remove_prefix(part.size());
    last = emit(at, f, static_cast<std::uint8_t>(tcp_flag::kAck | (bytes.empty() ? tcp_flag::kPsh : 0)), part, out);
    if (part.size() == mss && ++full_segments % 2 == 0 && !bytes.empty()) {
      emit(at, 1 - f, tcp_flag::kAck, {}, out);
    }
  }
  return last;
}

std::optional<std::size_t> TcpConversation::close(absl::Time at, sim::WireSide from, std::vector<Frame>& out) {
  acks_due_before(at, out);
  const int f = index(from);
  if (reset_ || fin_at_[f]) return std::nullopt;
  fin_at_[f] = at;
  const std::size_t fin = emit(at, f, tcp_flag::kFin | tcp_flag::kAck, {}, out);
  // The second FIN of a connection is acknowledged at once: the closing is over.
  if (fin_at_[1 - f]) emit(at, 1 - f, tcp_flag::kAck, {}, out);
  return fin;
}

std::optional<std::size_t> TcpConversation::reset(absl::Time at, std::vector<Frame>& out) {
  acks_due_before(at, out);
  if (reset_) return std::nullopt;
  // The link does not say which end reset; the capture shows the server's.
  const std::size_t rst = emit(at, 1, tcp_flag::kRst | tcp_flag::kAck, {}, out);
  reset_ = true;
  return rst;
}

void TcpConversation::finish(std::vector<Frame>& out) {
  if (reset_) return;
  for (int side = 0; side < 2; ++side) {
    if (fin_at_[side] && !fin_at_[1 - side]) {
      // The peer's program saw the end of the stream and closed in turn.
      const absl::Time at = *fin_at_[side];
      fin_at_[1 - side] = at;
      emit(at, 1 - side, tcp_flag::kFin | tcp_flag::kAck, {}, out);
      emit(at, side, tcp_flag::kAck, {}, out);
      return;
    }
  }
  acks_due_before(absl::InfiniteFuture(), out);
}

std::optional<std::size_t> TcpConversation::refused(absl::Time at, const SocketAddress& client, const SocketAddress& server,
                                     std::uint64_t id, IpIds& ip_ids, std::vector<Frame>& out) {
  TcpConversation c(client, server, id, ip_ids);
  c.emit(at, 0, tcp_flag::kSyn, {}, out, static_cast<std::uint16_t>(mss_for(client)));
  // RFC 9293 3.10.7.1: a SYN to a closed port gets RST with the ACK of the SYN, sequence 0.
  c.next_seq_[1] = 0;
  return c.emit(at, 1, tcp_flag::kRst | tcp_flag::kAck, {}, out);
}

std::optional<std::size_t> TcpConversation::unanswered(absl::Time at, const SocketAddress& client, const SocketAddress& server,
                                        std::uint64_t id, absl::Duration waited, IpIds& ip_ids,
                                        std::vector<Frame>& out) {
  TcpHeader h;
  h.seq = initial_sequence(id, 0);
  h.flags = tcp_flag::kSyn;
  h.mss = static_cast<std::uint16_t>(mss_for(client));
  std::size_t last = 0;
  absl::Duration after = absl::ZeroDuration();
  absl::Duration rto = absl::Seconds(1);
  do {
    out.push_back({at + after, tcp_frame(client, server, h, {}, ip_ids.next()), {}});
    last = out.size() - 1;
    after += rto;
    rto *= 2;
  } while (after < waited);
  return last;
}

}  // namespace smtplab::capture
