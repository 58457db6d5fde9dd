#include "capture/packets.hpp"

#include <arpa/inet.h>

#include <charconv>

#include "capture/network_bytes.hpp"

namespace smtplab::capture {
namespace {

void put_ip(std::string& out, const IpAddress& ip) {
  out.append(reinterpret_cast<const char*>(ip.bytes.data()), ip.size());
}

constexpr std::uint8_t kProtocolTcp = 6;
constexpr std::uint8_t kProtocolUdp = 17;

// The sum of the pseudo-header that TCP's and UDP's checksums cover
// (RFC 9293 3.1, RFC 768; for IPv6 RFC 8200 8.1), not yet folded.
std::uint32_t pseudo_header_sum(const IpAddress& from, const IpAddress& to, std::uint8_t protocol,
                                std::size_t length) {
  std::string p;
  put_ip(p, from);
  put_ip(p, to);
  if (from.v6) {
    put32(p, static_cast<std::uint32_t>(length));
    put32(p, protocol);
  } else {
    p.push_back(0);
    p.push_back(static_cast<char>(protocol));
    put16(p, static_cast<std::uint16_t>(length));
  }
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < p.size(); i += 2) {
    sum += static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[i]) << 8 | static_cast<std::uint8_t>(p[i + 1]));
  }
  return sum;
}

// Ethernet II and the IP header around `transport` (a TCP segment or a UDP
// datagram whose checksum field is still zero at `checksum_at`).
std::string frame(const IpAddress& from, const IpAddress& to, std::uint8_t protocol, std::string transport,
                  std::size_t checksum_at, std::uint16_t ip_id) {
  std::uint16_t sum = internet_checksum(transport, pseudo_header_sum(from, to, protocol, transport.size()));
  // A UDP checksum that comes out zero is sent as all ones (RFC 768).
  if (protocol == kProtocolUdp && sum == 0) sum = 0xffff;
  set16(transport, checksum_at, sum);

  std::string out;
  out.reserve(14 + 40 + transport.size());
  const auto dst_mac = mac_of(to);
  const auto src_mac = mac_of(from);
  out.append(reinterpret_cast<const char*>(dst_mac.data()), dst_mac.size());
  out.append(reinterpret_cast<const char*>(src_mac.data()), src_mac.size());
  put16(out, from.v6 ? 0x86dd : 0x0800);
  if (from.v6) {
    put32(out, 0x60000000);  // version 6, no traffic class, no flow label
    put16(out, static_cast<std::uint16_t>(transport.size()));
    out.push_back(static_cast<char>(protocol));
    out.push_back(64);  // hop limit
  } else {
    const std::size_t start = out.size();
    out.push_back(0x45);  // version 4, a 20-octet header
    out.push_back(0);
    put16(out, static_cast<std::uint16_t>(20 + transport.size()));
    put16(out, ip_id);
    put16(out, 0x4000);  // don't fragment
    out.push_back(64);   // time to live
    out.push_back(static_cast<char>(protocol));
    put16(out, 0);  // the header checksum, below
    put_ip(out, from);
    put_ip(out, to);
    set16(out, start + 10, internet_checksum(std::string_view(out).substr(start, 20)));
  }
  if (from.v6) {
    put_ip(out, from);
    put_ip(out, to);
  }
  out += transport;
  return out;
}

}  // namespace

std::uint16_t internet_checksum(std::string_view data, std::uint32_t sum) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2) {
    sum += static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i]) << 8 | static_cast<std::uint8_t>(data[i + 1]));
  }
  if (i < data.size()) sum += static_cast<std::uint32_t>(static_cast<std::uint8_t>(data[i]) << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  const std::string s(text);
  IpAddress ip;
  if (inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

std::string ip_text(const IpAddress& ip) {
  char out[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), out, sizeof out) == nullptr) return {};
  return out;
}

std::optional<SocketAddress> parse_socket_address(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos && host.front() != '[') return std::nullopt;  // IPv6 needs brackets
  auto ip = parse_ip(host);
  if (!ip) return std::nullopt;
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) return std::nullopt;
  return SocketAddress{*ip, static_cast<std::uint16_t>(port)};
}

std::array<std::uint8_t, 6> mac_of(const IpAddress& ip) {
  const std::size_t n = ip.size();
  return {0x02, 0x00, ip.bytes[n - 4], ip.bytes[n - 3], ip.bytes[n - 2], ip.bytes[n - 1]};
}

std::string tcp_frame(const SocketAddress& from, const SocketAddress& to, const TcpHeader& header,
                      std::string_view payload, std::uint16_t ip_id) {
  const std::size_t header_length = header.mss != 0 ? 24 : 20;
  std::string t;
  t.reserve(header_length + payload.size());
  put16(t, from.port);
  put16(t, to.port);
  put32(t, header.seq);
  put32(t, header.ack);
  t.push_back(static_cast<char>((header_length / 4) << 4));
  t.push_back(static_cast<char>(header.flags));
  put16(t, header.window);
  put16(t, 0);  // checksum, filled in by frame()
  put16(t, 0);  // no urgent data
  if (header.mss != 0) {
    t.push_back(2);  // kind: maximum segment size
    t.push_back(4);
    put16(t, header.mss);
  }
  t.append(payload);
  return frame(from.ip, to.ip, kProtocolTcp, std::move(t), 16, ip_id);
}

std::string udp_frame(const SocketAddress& from, const SocketAddress& to, std::string_view payload,
                      std::uint16_t ip_id) {
  std::string u;
  put16(u, from.port);
  put16(u, to.port);
  put16(u, static_cast<std::uint16_t>(8 + payload.size()));
  put16(u, 0);
  u.append(payload);
  return frame(from.ip, to.ip, kProtocolUdp, std::move(u), 6, ip_id);
}

}  // namespace smtplab::capture
