// Ethernet frames carrying IPv4 or IPv6, with TCP or UDP inside, built byte by
// byte with their checksums: what a capture file holds. Only what smtplab's
// exports need: no IP options or fragments, TCP options only on a SYN.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtplab::capture {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // the first 4 for IPv4
  std::size_t size() const { return v6 ? 16 : 4; }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// "192.0.2.10" or "2001:db8::1" (also "[2001:db8::1]").
std::optional<IpAddress> parse_ip(std::string_view text);

struct SocketAddress {
  IpAddress ip;
  std::uint16_t port = 0;
};

// "192.0.2.10:40001" or "[2001:db8::1]:25".
std::optional<SocketAddress> parse_socket_address(std::string_view text);

// The address as text: "192.0.2.10", "2001:db8::1" (RFC 5952's form).
std::string ip_text(const IpAddress& ip);

// TCP header flags (RFC 9293 3.1).
namespace tcp_flag {
inline constexpr std::uint8_t kFin = 0x01;
inline constexpr std::uint8_t kSyn = 0x02;
inline constexpr std::uint8_t kRst = 0x04;
inline constexpr std::uint8_t kPsh = 0x08;
inline constexpr std::uint8_t kAck = 0x10;
}  // namespace tcp_flag

struct TcpHeader {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 64240;
  std::uint16_t mss = 0;  // non-zero: the MSS option (RFC 9293 3.7.1), on a SYN
};

// The largest TCP payload of one segment on the world's Ethernet links
// (1500-octet MTU less 20 of IPv4 and 20 of TCP; IPv6 takes 20 more).
inline constexpr std::size_t kMss4 = 1460;
inline constexpr std::size_t kMss6 = 1440;

// The locally administered MAC address a host with `ip` has in a capture:
// 02:00 and the address's last four octets, so one host keeps one MAC.
std::array<std::uint8_t, 6> mac_of(const IpAddress& ip);

// One whole frame: Ethernet II, the IP header (IPv4 with DF set and the
// header checksum, or IPv6), the TCP segment with its checksum over the
// pseudo-header (RFC 9293 3.1; RFC 8200 8.1).
std::string tcp_frame(const SocketAddress& from, const SocketAddress& to, const TcpHeader& header,
                      std::string_view payload, std::uint16_t ip_id);
std::string udp_frame(const SocketAddress& from, const SocketAddress& to, std::string_view payload,
                      std::uint16_t ip_id);

// The Internet checksum (RFC 1071) of `data`, starting from `sum`.
std::uint16_t internet_checksum(std::string_view data, std::uint32_t sum = 0);

}  // namespace smtplab::capture
