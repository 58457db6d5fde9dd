#include "capture/tcp_reassembly.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace smtplab::capture {
namespace {

std::string endpoint_key(const SocketAddress& a) {
  std::string k(reinterpret_cast<const char*>(a.ip.bytes.data()), a.ip.size());
  k.push_back(static_cast<char>(a.port >> 8));
  k.push_back(static_cast<char>(a.port & 0xff));
  return k;
}

}  // namespace

TcpReassembler::Key TcpReassembler::key_of(const SocketAddress& a, const SocketAddress& b) {
  std::string x = endpoint_key(a), y = endpoint_key(b);
  return x < y ? x + y : y + x;
}

TcpReassembler::Stream* TcpReassembler::find_or_open(const TcpSegment& s, std::vector<StreamEvent>& out) {
  const Key key = key_of(s.src, s.dst);
  const bool syn_only = (s.flags & tcp_flag::kSyn) && !(s.flags & tcp_flag::kAck);
  auto it = open_.find(key);
  if (it != open_.end()) {
    Stream& st = it->second;
    const StreamInfo& info = streams_[st.index];
    const bool over = st.reset || (st.side[0].closed && st.side[1].closed);
    // A new SYN on the same two ends after the last connection ended (or a
    // client starting again with another sequence number) is a new stream.
    const bool new_syn = syn_only && (over || (info.client.port == s.src.port && info.client.ip == s.src.ip &&
                                               st.side[0].started && s.seq + 1 != st.side[0].next_seq));
    if (!new_syn) return &st;
    open_.erase(it);
  }
  if (streams_.size() >= settings_.max_streams) {
    ++left_out_;
    return nullptr;
  }
  StreamInfo info;
  bool src_is_client;
  if (s.flags & tcp_flag::kSyn) {
    src_is_client = !(s.flags & tcp_flag::kAck);  // SYN from the client, SYN-ACK from the server
  } else {
    const auto& ports = settings_.server_ports;
    const bool dst_known = std::find(ports.begin(), ports.end(), s.dst.port) != ports.end();
    const bool src_known = std::find(ports.begin(), ports.end(), s.src.port) != ports.end();
    src_is_client = dst_known != src_known ? dst_known : s.src.port > s.dst.port;
    info.midstream = true;
  }
  info.client = src_is_client ? s.src : s.dst;
  info.server = src_is_client ? s.dst : s.src;
  if ((s.flags & tcp_flag::kSyn) && (s.flags & tcp_flag::kAck)) info.midstream = true;  // the client's SYN is missing
  streams_.push_back(info);
  Stream st;
  st.index = streams_.size() - 1;
  out.push_back({StreamEvent::Kind::kOpen, s.at, st.index, src_is_client, {}, 0});
  return &open_.emplace(key, std::move(st)).first->second;
}

void TcpReassembler::add(const TcpSegment& s, std::vector<StreamEvent>& out) {
  Stream* st = find_or_open(s, out);
  if (st == nullptr || st->reset) return;
  st->last_seen = s.at;
  const StreamInfo& info = streams_[st->index];
  const bool from_client = s.src.ip == info.client.ip && s.src.port == info.client.port;
  const int side = from_client ? 0 : 1;
  Direction& d = st->side[side];
  if (s.flags & tcp_flag::kRst) {
    st->reset = true;
    out.push_back({StreamEvent::Kind::kReset, s.at, st->index, from_client, {}, 0});
    return;
  }
  std::uint32_t seq = s.seq;
  if (!d.started) {
    d.started = true;
    d.next_seq = (s.flags & tcp_flag::kSyn) ? seq + 1 : seq;
    d.next_pos = 0;
  }
  if (s.flags & tcp_flag::kSyn) seq += 1;  // the SYN takes the first number; data follows it
  if (d.closed) return;
  std::string_view payload = s.payload;
  std::uint64_t pos = d.position_of(seq);
  if (pos < d.next_pos) {  // retransmitted or overlapping: keep only what is new
    const std::uint64_t old = d.next_pos - pos;
    if (old >= payload.size()) {
      payload = {};
    } else {
      payload.remove_prefix(static_cast<std::size_t>(old));
    }
    pos = d.next_pos;
  }
  if (s.flags & tcp_flag::kFin) {
    const std::uint64_t fin = d.position_of(seq) + s.payload.size();
    if (!d.fin_pos) d.fin_pos = fin;
  }
  if (!payload.empty()) {
    auto [slot, fresh] = d.waiting.try_emplace(pos, std::string(payload));
    if (fresh) {
      d.waiting_bytes += payload.size();
    } else if (slot->second.size() < payload.size()) {  // a longer copy of the same start
      d.waiting_bytes += payload.size() - slot->second.size();
      slot->second.assign(payload);
    }
  }
  drain(*st, side, s.at, out);
  if (d.waiting_bytes > settings_.max_buffered) give_up_gap(*st, side, s.at, out);
}

void TcpReassembler::drain(Stream& st, int side, absl::Time at, std::vector<StreamEvent>& out) {
  Direction& d = st.side[side];
  while (!d.waiting.empty() && d.waiting.begin()->first <= d.next_pos) {
    auto first = d.waiting.begin();
    std::string bytes = std::move(first->second);
    const std::uint64_t start = first->first;
    d.waiting_bytes -= bytes.size();
    d.waiting.erase(first);
    if (start + bytes.size() <= d.next_pos) continue;  // all of it given already
    bytes.erase(0, static_cast<std::size_t>(d.next_pos - start));
    if (d.fin_pos && d.next_pos + bytes.size() > *d.fin_pos) {
      bytes.resize(static_cast<std::size_t>(*d.fin_pos - d.next_pos));  // nothing counts after the FIN
    }
    d.next_pos += bytes.size();
    d.next_seq += static_cast<std::uint32_t>(bytes.size());
    if (!bytes.empty()) {
      if (!out.empty() && out.back().kind == StreamEvent::Kind::kBytes && out.back().stream == st.index &&
          out.back().from_client == (side == 0) && out.back().at == at) {
        out.back().bytes += bytes;  // pieces of one segment's worth
      } else {
        out.push_back({StreamEvent::Kind::kBytes, at, st.index, side == 0, std::move(bytes), 0});
      }
    }
  }
  if (d.fin_pos && d.next_pos >= *d.fin_pos && !d.closed) {
    d.closed = true;
    d.waiting.clear();
    d.waiting_bytes = 0;
    out.push_back({StreamEvent::Kind::kClose, at, st.index, side == 0, {}, 0});
  }
}

void TcpReassembler::give_up_gap(Stream& st, int side, absl::Time at, std::vector<StreamEvent>& out) {
  Direction& d = st.side[side];
  while (!d.waiting.empty() && !d.closed) {
    const std::uint64_t next = d.waiting.begin()->first;
    if (next > d.next_pos) {
      out.push_back({StreamEvent::Kind::kGap, at, st.index, side == 0, {}, next - d.next_pos});
      d.next_seq += static_cast<std::uint32_t>(next - d.next_pos);
      d.next_pos = next;
    }
    drain(st, side, at, out);
    if (d.waiting_bytes <= settings_.max_buffered / 2) break;
  }
}

void TcpReassembler::finish(std::vector<StreamEvent>& out) {
  // In the order the streams began, so that the events stay in a stable order.
  std::vector<Stream*> all;
  for (auto& [key, st] : open_) all.push_back(&st);
  std::sort(all.begin(), all.end(), [](const Stream* a, const Stream* b) { return a->index < b->index; });
  for (Stream* st : all) {
    if (st->reset) continue;
    for (int side = 0; side < 2; ++side) {
      Direction& d = st->side[side];
      const absl::Time at = st->last_seen;
      while (!d.waiting.empty() && !d.closed) {
        const std::uint64_t next = d.waiting.begin()->first;
        if (next > d.next_pos) {
          out.push_back({StreamEvent::Kind::kGap, at, st->index, side == 0, {}, next - d.next_pos});
          d.next_seq += static_cast<std::uint32_t>(next - d.next_pos);
          d.next_pos = next;
        }
        drain(*st, side, at, out);
      }
    }
  }
}

}  // namespace smtplab::capture
