// The connecting client's address as SPF compares it: IPv4 or IPv6, matched
// against a network with a prefix length (RFC 7208 5.6), and written the ways
// its macros and reverse lookups need (RFC 7208 7.3, 5.5).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace smtplab::auth {

class IpAddress {
 public:
  // Dotted quad, or an IPv6 address in any RFC 4291 2.2 form. An IPv4-mapped
  // IPv6 address (::ffff:192.0.2.1) is that IPv4 address: the same client,
  // written by a dual-stack socket (RFC 7208 5, "ip4" and "ip6" compare by family).
  static std::optional<IpAddress> parse(std::string_view text);
  // Only the dotted quad of RFC 7208 12's ip4-network, or only IPv6.
  static std::optional<IpAddress> parse_v4(std::string_view text);
  static std::optional<IpAddress> parse_v6(std::string_view text);

  bool is_v6() const { return v6_; }
  // True when the first `prefix` bits equal those of `network` (same family).
  bool in_network(const IpAddress& network, int prefix) const;

  std::string text() const;  // dotted quad, or the RFC 5952 form
  // %{i}: the dotted quad, or 32 lower-case nibbles separated by dots.
  std::string macro_text() const;
  // The name whose PTR records name this address: 4.3.2.1.in-addr.arpa or
  // the nibbles reversed under ip6.arpa (RFC 1035 3.5, RFC 3596 2.5).
  std::string reverse_name() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  bool v6_ = false;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in the first four
};

}  // namespace smtplab::auth
