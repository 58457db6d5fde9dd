// The bytes of frames, DNS messages and pcapng blocks, checked against the
// RFCs' own examples and read back by libpcap.
#include "capture/packets.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>

#include "capture/dns_message.hpp"
#include "capture/pcapng_writer.hpp"

namespace smtplab::capture {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

std::uint16_t get16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(s[at]) << 8 | static_cast<std::uint8_t>(s[at + 1]));
}

// RFC 1071 3: the sum of 00 01 f2 03 f4 f5 f6 f7 is dd f2; the checksum its complement.
TEST(InternetChecksum, Rfc1071Example) {
  EXPECT_EQ(internet_checksum(bytes({0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7})), 0x220d);
  // An odd length is padded with a zero octet.
  EXPECT_EQ(internet_checksum(bytes({0x01})), static_cast<std::uint16_t>(~0x0100));
}

TEST(SocketAddress, ParsesWhatTheNetworksWrite) {
  auto v4 = parse_socket_address("192.0.2.10:40001");
  ASSERT_TRUE(v4);
  EXPECT_FALSE(v4->ip.v6);
  EXPECT_EQ(v4->port, 40001);
  EXPECT_EQ(v4->ip.bytes[3], 10);
  auto v6 = parse_socket_address("[2001:db8::1]:25");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->ip.v6);
  EXPECT_EQ(v6->port, 25);
  EXPECT_EQ(v6->ip.bytes[15], 1);
  EXPECT_FALSE(parse_socket_address("2001:db8::1:25"));  // IPv6 without brackets is ambiguous
  EXPECT_FALSE(parse_socket_address("192.0.2.10"));
  EXPECT_FALSE(parse_socket_address("192.0.2.10:65536"));
  EXPECT_FALSE(parse_socket_address("mx.example.net:25"));
}

// RFC 791 3.1: the header checksum makes the header sum to all ones; RFC
// 9293 3.1: the TCP checksum covers the pseudo-header and the segment.
TEST(TcpFrame, Ipv4HeaderAndTcpChecksumsVerify) {
  const SocketAddress from{*parse_ip("192.0.2.10"), 40001};
  const SocketAddress to{*parse_ip("192.0.2.20"), 25};
  TcpHeader h;
  h.seq = 1000;
  h.ack = 2000;
  h.flags = tcp_flag::kAck | tcp_flag::kPsh;
  const std::string payload = "EHLO laptop.example.org\r\n";
  const std::string f = tcp_frame(from, to, h, payload, 7);
  ASSERT_EQ(f.size(), 14 + 20 + 20 + payload.size());
  EXPECT_EQ(get16(f, 12), 0x0800);
  EXPECT_EQ(internet_checksum(std::string_view(f).substr(14, 20)), 0) << "IPv4 header checksum";
  EXPECT_EQ(get16(f, 14 + 2), 20 + 20 + payload.size());
  EXPECT_EQ(get16(f, 14 + 4), 7);
  // The pseudo-header: source, destination, zero, protocol 6, TCP length.
  std::string pseudo = f.substr(14 + 12, 8);
  pseudo += bytes({0, 6});
  pseudo += bytes({0, static_cast<int>(20 + payload.size())});
  EXPECT_EQ(internet_checksum(pseudo + f.substr(34)), 0) << "TCP checksum";
  EXPECT_EQ(get16(f, 34), 40001);
  EXPECT_EQ(get16(f, 36), 25);
  EXPECT_EQ(f.substr(54), payload);
}

TEST(TcpFrame, SynCarriesTheMssOption) {
  const SocketAddress from{*parse_ip("192.0.2.10"), 40001};
  const SocketAddress to{*parse_ip("192.0.2.20"), 25};
  TcpHeader h;
  h.flags = tcp_flag::kSyn;
  h.mss = 1460;
  const std::string f = tcp_frame(from, to, h, {}, 1);
  ASSERT_EQ(f.size(), 14 + 20 + 24u);
  EXPECT_EQ(static_cast<std::uint8_t>(f[34 + 12]) >> 4, 6) << "data offset: 24 octets";
  EXPECT_EQ(f[54], 2);
  EXPECT_EQ(f[55], 4);
  EXPECT_EQ(get16(f, 56), 1460);
}

// RFC 8200 8.1: over IPv6 the pseudo-header has 32-bit length and next header.
TEST(TcpFrame, Ipv6ChecksumVerifies) {
  const SocketAddress from{*parse_ip("2001:db8::10"), 40001};
  const SocketAddress to{*parse_ip("2001:db8::20"), 25};
  TcpHeader h;
  h.flags = tcp_flag::kAck;
  const std::string payload = "QUIT\r\n";
  const std::string f = tcp_frame(from, to, h, payload, 1);
  ASSERT_EQ(f.size(), 14 + 40 + 20 + payload.size());
  EXPECT_EQ(get16(f, 12), 0x86dd);
  EXPECT_EQ(get16(f, 14 + 4), 20 + payload.size());
  std::string pseudo = f.substr(14 + 8, 32);
  pseudo += bytes({0, 0, 0, static_cast<int>(20 + payload.size()), 0, 0, 0, 6});
  EXPECT_EQ(internet_checksum(pseudo + f.substr(54)), 0);
}

TEST(UdpFrame, ChecksumVerifies) {
  const SocketAddress from{*parse_ip("192.0.2.10"), 50001};
  const SocketAddress to{*parse_ip("192.0.2.53"), 53};
  const std::string payload = "abc";
  const std::string f = udp_frame(from, to, payload, 3);
  std::string pseudo = f.substr(14 + 12, 8);
  pseudo += bytes({0, 17, 0, 11});
  EXPECT_EQ(internet_checksum(pseudo + f.substr(34)), 0);
  EXPECT_EQ(get16(f, 34 + 4), 11);
}

// RFC 1035 4.1: header, then the question as labels, type and class.
TEST(DnsMessage, QueryIsLabelsTypeAndClass) {
  auto m = dns_query_message(0x1234, {"laptop.example.org", "example.net", 15});
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, bytes({0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}) + "\x07" "example" "\x03" "net" +
                    bytes({0, 0, 15, 0, 1}));
  EXPECT_FALSE(dns_query_message(1, {"a", std::string(64, 'x') + ".example", 1})) << "a label over 63 octets";
  EXPECT_FALSE(dns_query_message(1, {"a", "example..net", 1})) << "an empty label";
}

TEST(DnsMessage, AnswerPointsAtTheQuestionAndCarriesRdata) {
  auto m = dns_answer_message(7, {"laptop.example.org", "example.net", 15}, 0, {{15, 300, 10, "mx1.example.net"}});
  ASSERT_TRUE(m);
  EXPECT_EQ(get16(*m, 2), 0x8180);
  EXPECT_EQ(get16(*m, 6), 1) << "one answer";
  const std::size_t answer = 12 + 13 + 4;
  EXPECT_EQ(get16(*m, answer), 0xc00c) << "owner name: a pointer to the question (RFC 1035 4.1.4)";
  EXPECT_EQ(get16(*m, answer + 2), 15);
  EXPECT_EQ(get16(*m, answer + 10), 2 + 17) << "RDLENGTH: preference and the exchange";
  EXPECT_EQ(get16(*m, answer + 12), 10);
  auto nx = dns_answer_message(8, {"h", "nowhere.example", 1}, 3, {});
  ASSERT_TRUE(nx);
  EXPECT_EQ(get16(*nx, 2) & 0xf, 3) << "NXDOMAIN";
  auto a = dns_answer_message(9, {"h", "mx.example.net", 1}, 0, {{1, 300, 0, "192.0.2.20"}});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->substr(a->size() - 4), bytes({192, 0, 2, 20}));
  EXPECT_FALSE(dns_answer_message(9, {"h", "mx.example.net", 1}, 0, {{1, 300, 0, "not an address"}}));
}

// libpcap reads what the writer wrote: the link type, each frame whole, the
// microsecond timestamps (pcapng if_tsresol 6).
TEST(PcapngWriter, LibpcapReadsItBack) {
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab_pcapng_writer_test.pcapng").string();
  const absl::Time t0 = absl::FromUnixMicros(1767225600000123);
  const SocketAddress from{*parse_ip("192.0.2.10"), 40001};
  const SocketAddress to{*parse_ip("192.0.2.20"), 25};
  TcpHeader h;
  h.flags = tcp_flag::kSyn;
  const std::string f1 = tcp_frame(from, to, h, {}, 1);
  const std::string f2 = tcp_frame(to, from, h, "odd", 2);  // 57 octets: padding is needed
  {
    auto w = PcapngWriter::create(path, "test");
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE(w->write_packet(t0, f1, {"[conn.open] first", "second comment"}).ok());
    ASSERT_TRUE(w->write_packet(t0 + absl::Milliseconds(10), f2, {}).ok());
    ASSERT_TRUE(w->close().ok());
  }
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  ASSERT_NE(p, nullptr) << err;
  EXPECT_EQ(pcap_datalink(p), DLT_EN10MB);
  pcap_pkthdr* hdr;
  const u_char* data;
  ASSERT_EQ(pcap_next_ex(p, &hdr, &data), 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), hdr->caplen), f1);
  EXPECT_EQ(hdr->ts.tv_sec, 1767225600);
  EXPECT_EQ(hdr->ts.tv_usec, 123);
  ASSERT_EQ(pcap_next_ex(p, &hdr, &data), 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), hdr->caplen), f2);
  EXPECT_EQ(hdr->ts.tv_usec, 10123);
  EXPECT_EQ(pcap_next_ex(p, &hdr, &data), PCAP_ERROR_BREAK) << "two packets, then the end";
  pcap_close(p);
  std::filesystem::remove(path);
}

TEST(PcapngWriter, UnwritablePathIsAnError) {
  auto w = PcapngWriter::create("/nonexistent-dir/x.pcapng", "test");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("/nonexistent-dir/x.pcapng"), std::string::npos);
}

}  // namespace
}  // namespace smtplab::capture
