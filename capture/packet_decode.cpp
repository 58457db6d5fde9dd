#include "capture/packet_decode.hpp"

namespace smtplab::capture {
namespace {

std::uint16_t be16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(b[at]) << 8 | static_cast<std::uint8_t>(b[at + 1]));
}
std::uint32_t be32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(be16(b, at)) << 16 | be16(b, at + 2);
}

Decoded fail(NotTcp why) { return Decoded{std::nullopt, why}; }

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd, kEtherVlan = 0x8100, kEtherQinQ = 0x88a8;
constexpr std::uint8_t kTcp = 6;

Decoded decode_tcp(std::string_view t, IpAddress src, IpAddress dst, absl::Time at) {
  if (t.size() < 20) return fail(NotTcp::kTruncated);
  const std::size_t header = static_cast<std::size_t>(static_cast<std::uint8_t>(t[12]) >> 4) * 4;
  if (header < 20) return fail(NotTcp::kBadHeader);
  if (header > t.size()) return fail(NotTcp::kTruncated);
  TcpSegment s;
  s.at = at;
  s.src = {src, be16(t, 0)};
  s.dst = {dst, be16(t, 2)};
  s.seq = be32(t, 4);
  s.flags = static_cast<std::uint8_t>(t[13]);
  s.payload = t.substr(header);
  return Decoded{s, NotTcp::kOtherProtocol};
}

Decoded decode_ipv4(std::string_view p, absl::Time at) {
  if (p.size() < 20) return fail(NotTcp::kTruncated);
  if ((static_cast<std::uint8_t>(p[0]) >> 4) != 4) return fail(NotTcp::kBadHeader);
  const std::size_t header = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  const std::size_t total = be16(p, 2);
  if (header < 20 || total < header) return fail(NotTcp::kBadHeader);
  if (total > p.size()) return fail(NotTcp::kTruncated);  // the snap length cut it
  if ((be16(p, 6) & 0x3fff) != 0) return fail(NotTcp::kFragment);  // more fragments, or an offset
  if (static_cast<std::uint8_t>(p[9]) != kTcp) return fail(NotTcp::kOtherProtocol);
  IpAddress src, dst;
  for (int i = 0; i < 4; ++i) {
    src.bytes[i] = static_cast<std::uint8_t>(p[12 + i]);
    dst.bytes[i] = static_cast<std::uint8_t>(p[16 + i]);
  }
  // Ethernet pads short frames: the IP length says where the packet ends.
  return decode_tcp(p.substr(header, total - header), src, dst, at);
}

Decoded decode_ipv6(std::string_view p, absl::Time at) {
  if (p.size() < 40) return fail(NotTcp::kTruncated);
  if ((static_cast<std::uint8_t>(p[0]) >> 4) != 6) return fail(NotTcp::kBadHeader);
  const std::size_t length = be16(p, 4);
  if (40 + length > p.size()) return fail(NotTcp::kTruncated);
  IpAddress src, dst;
  src.v6 = dst.v6 = true;
  for (int i = 0; i < 16; ++i) {
    src.bytes[i] = static_cast<std::uint8_t>(p[8 + i]);
    dst.bytes[i] = static_cast<std::uint8_t>(p[24 + i]);
  }
  std::uint8_t next = static_cast<std::uint8_t>(p[6]);
  std::string_view rest = p.substr(40, length);
  // Extension headers before TCP (RFC 8200 4): hop-by-hop, routing,
  // destination options; a fragment header means a fragment.
  for (int hops = 0; hops < 8; ++hops) {
    if (next == kTcp) return decode_tcp(rest, src, dst, at);
    if (next == 44) return fail(NotTcp::kFragment);
    if (next != 0 && next != 43 && next != 60) return fail(NotTcp::kOtherProtocol);
    if (rest.size() < 8) return fail(NotTcp::kTruncated);
    const std::size_t ext = (static_cast<std::size_t>(static_cast<std::uint8_t>(rest[1])) + 1) * 8;
    if (ext > rest.size()) return fail(NotTcp::kTruncated);
    next = static_cast<std::uint8_t>(rest[0]);
    rest.remove_prefix(ext);
  }
  return fail(NotTcp::kBadHeader);
}

Decoded decode_by_ethertype(std::uint16_t type, std::string_view rest, absl::Time at) {
  if (type == kEtherIpv4) return decode_ipv4(rest, at);
  if (type == kEtherIpv6) return decode_ipv6(rest, at);
  return fail(NotTcp::kOtherProtocol);
}

// Raw IP: the version nibble says which.
Decoded decode_ip(std::string_view p, absl::Time at) {
  if (p.empty()) return fail(NotTcp::kTruncated);
  const int version = static_cast<std::uint8_t>(p[0]) >> 4;
  if (version == 4) return decode_ipv4(p, at);
  if (version == 6) return decode_ipv6(p, at);
  return fail(NotTcp::kOtherProtocol);
}

}  // namespace

bool is_supported_link_type(int dlt) {
  switch (dlt) {
    case kDltNull: case kDltEthernet: case kDltRaw: case kDltRawAlt: case kDltLoop: case kDltLinuxSll:
    case kDltLinuxSll2: case kLinktypeRaw:
      return true;
    default:
      return false;
  }
}

std::string_view not_tcp_name(NotTcp why) {
  switch (why) {
    case NotTcp::kOtherProtocol: return "not TCP over IP";
    case NotTcp::kTruncated: return "cut short";
    case NotTcp::kFragment: return "an IP fragment";
    case NotTcp::kBadHeader: return "a malformed header";
  }
  return "?";
}

Decoded decode_frame(int dlt, std::string_view f, absl::Time at) {
  switch (dlt) {
    case kDltEthernet: {
      if (f.size() < 14) return fail(NotTcp::kTruncated);
      std::uint16_t type = be16(f, 12);
      std::size_t at_payload = 14;
      // 802.1Q and 802.1ad tags: four octets each before the real type.
      while (type == kEtherVlan || type == kEtherQinQ) {
        if (f.size() < at_payload + 4) return fail(NotTcp::kTruncated);
        type = be16(f, at_payload + 2);
        at_payload += 4;
      }
      return decode_by_ethertype(type, f.substr(at_payload), at);
    }
    case kDltRaw:
    case kDltRawAlt:
    case kLinktypeRaw:
      return decode_ip(f, at);
    case kDltNull:
    case kDltLoop: {
      // A 4-octet address family, in the capturing host's byte order (NULL)
      // or network order (LOOP); the IP version nibble decides either way.
      if (f.size() < 4) return fail(NotTcp::kTruncated);
      return decode_ip(f.substr(4), at);
    }
    case kDltLinuxSll:
      if (f.size() < 16) return fail(NotTcp::kTruncated);
      return decode_by_ethertype(be16(f, 14), f.substr(16), at);
    case kDltLinuxSll2:
      if (f.size() < 20) return fail(NotTcp::kTruncated);
      return decode_by_ethertype(be16(f, 0), f.substr(20), at);
    default:
      return fail(NotTcp::kOtherProtocol);
  }
}

}  // namespace smtplab::capture
