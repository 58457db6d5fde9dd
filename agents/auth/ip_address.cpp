#include "agents/auth/ip_address.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace smtplab::auth {

std::optional<IpAddress> IpAddress::parse_v4(std::string_view text) {
  if (text.size() > 15) return std::nullopt;
  char buffer[16] = {};
  std::memcpy(buffer, text.data(), text.size());
  IpAddress out;
  // inet_pton takes exactly four decimal parts without leading zeros, as
  // ip4-network's qnum does.
  if (inet_pton(AF_INET, buffer, out.bytes_.data()) != 1) return std::nullopt;
  return out;
}

std::optional<IpAddress> IpAddress::parse_v6(std::string_view text) {
  if (text.size() > 45) return std::nullopt;
  char buffer[46] = {};
  std::memcpy(buffer, text.data(), text.size());
  IpAddress out;
  out.v6_ = true;
  if (inet_pton(AF_INET6, buffer, out.bytes_.data()) != 1) return std::nullopt;
  return out;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (auto v4 = parse_v4(text)) return v4;
  auto v6 = parse_v6(text);
  if (!v6) return std::nullopt;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6->bytes_.data(), kMapped, sizeof kMapped) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes_.data(), v6->bytes_.data() + 12, 4);
    return v4;
  }
  return v6;
}

bool IpAddress::in_network(const IpAddress& network, int prefix) const {
  if (v6_ != network.v6_) return false;
  const int bits = v6_ ? 128 : 32;
  if (prefix < 0 || prefix > bits) return false;
  const int whole = prefix / 8;
  if (std::memcmp(bytes_.data(), network.bytes_.data(), whole) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes_[whole] & mask) == (network.bytes_[whole] & mask);
}

std::string IpAddress::text() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), buffer, sizeof buffer);
  return buffer;
}

namespace {
constexpr char kHex[] = "0123456789abcdef";
}

std::string IpAddress::macro_text() const {
  if (!v6_) return text();
  std::string out;
  out.reserve(63);
  for (std::uint8_t byte : bytes_) {
    if (!out.empty()) out += '.';
    out += kHex[byte >> 4];
    out += '.';
    out += kHex[byte & 0xf];
  }
  return out;
}

std::string IpAddress::reverse_name() const {
  std::string out;
  if (!v6_) {
    return absl::StrCat(bytes_[3], ".", bytes_[2], ".", bytes_[1], ".", bytes_[0], ".in-addr.arpa");
  }
  for (int i = 15; i >= 0; --i) {
    out += kHex[bytes_[i] & 0xf];
    out += '.';
    out += kHex[bytes_[i] >> 4];
    out += '.';
  }
  out += "ip6.arpa";
  return out;
}

}  // namespace smtplab::auth
