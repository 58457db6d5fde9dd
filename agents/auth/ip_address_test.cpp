#include "agents/auth/ip_address.hpp"

#include "gtest/gtest.h"

namespace smtplab::auth {
namespace {

// RFC 7208 5.6: ip4 and ip6 compare the first prefix-length bits.
TEST(IpAddress, MatchesANetworkByItsPrefixBits) {
  const IpAddress client = *IpAddress::parse("192.0.2.130");
  EXPECT_TRUE(client.in_network(*IpAddress::parse("192.0.2.128"), 25));
  EXPECT_FALSE(client.in_network(*IpAddress::parse("192.0.2.0"), 25));
  EXPECT_TRUE(client.in_network(*IpAddress::parse("10.0.0.0"), 0));
  EXPECT_FALSE(client.in_network(*IpAddress::parse("192.0.2.131"), 32));
  const IpAddress v6 = *IpAddress::parse("2001:db8::1:2");
  EXPECT_TRUE(v6.in_network(*IpAddress::parse("2001:db8::"), 32));
  EXPECT_FALSE(v6.in_network(*IpAddress::parse("2001:db9::"), 32));
  EXPECT_FALSE(v6.in_network(*IpAddress::parse("192.0.2.0"), 0)) << "families never match each other";
}

// RFC 7208 5: an IPv4-mapped IPv6 client is the IPv4 client it maps.
TEST(IpAddress, TakesAnIpv4MappedAddressAsIpv4) {
  const IpAddress mapped = *IpAddress::parse("::ffff:192.0.2.1");
  EXPECT_FALSE(mapped.is_v6());
  EXPECT_EQ(mapped.text(), "192.0.2.1");
  EXPECT_FALSE(IpAddress::parse_v4("192.0.2.01")) << "ip4-network's qnum has no leading zeros (RFC 7208 12)";
  EXPECT_FALSE(IpAddress::parse_v4("192.0.2"));
  EXPECT_FALSE(IpAddress::parse("example.com"));
}

// RFC 7208 7.3 (%{i} of IPv6 is dotted nibbles) and 5.5 (the PTR name).
TEST(IpAddress, WritesMacroAndReverseForms) {
  const IpAddress v4 = *IpAddress::parse("192.0.2.3");
  EXPECT_EQ(v4.macro_text(), "192.0.2.3");
  EXPECT_EQ(v4.reverse_name(), "3.2.0.192.in-addr.arpa");
  const IpAddress v6 = *IpAddress::parse("2001:DB8::CB01");
  EXPECT_EQ(v6.text(), "2001:db8::cb01");
  EXPECT_EQ(v6.macro_text(), "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b.0.1");
  EXPECT_EQ(v6.reverse_name(), "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

}  // namespace
}  // namespace smtplab::auth
