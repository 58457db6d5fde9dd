// A lesson run through the wire log and written as a capture: every SMTP
// line is explained by the packet that carried it, and the TCP streams in
// the file are whole and consistent (RFC 9293 3.4: sequence numbers count
// every octet and each SYN and FIN; an ACK names the next octet expected).
#include "capture/capture_export.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <map>

#include "capture/packet_comments.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"

namespace smtplab::capture {
namespace {

struct Run {
  scenarios::Scenario scenario;
  std::unique_ptr<scenarios::ScenarioWorld> world;
  std::unique_ptr<WireLog> log;
};

std::unique_ptr<Run> run_lesson(const std::string& name) {
  auto loaded = scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/" + name + ".yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.error_text();
  if (!loaded.ok()) return nullptr;
  auto r = std::make_unique<Run>();
  r->scenario = *loaded.scenario;
  r->world = std::make_unique<scenarios::ScenarioWorld>(r->scenario, r->scenario.seed);
  r->log = std::make_unique<WireLog>(r->world->clock().epoch(), &r->world->trace);
  r->world->set_wire_observer(r->log.get());
  EXPECT_TRUE(r->world->build().ok());
  r->world->run();
  return r;
}

// A run's wire log with, for each record, the events that explain it.
struct Explained {
  explicit Explained(const Run& run)
      : records(run.log->records()), events(run.world->trace.events()), explaining(explaining_events(records, events)) {}
  std::vector<WireRecord> records;
  const std::vector<sim::TraceEvent>& events;
  std::vector<std::vector<const sim::TraceEvent*>> explaining;
};

std::string wire_bytes(const WireRecord& r, sim::WireSide side) {
  const auto* b = std::get_if<wire::Bytes>(&r.body);
  return b != nullptr && b->from == side ? b->bytes : std::string();
}

// RFC 5321 2.3.8: every line on the wire ends in CRLF; the trace has the line
// without it. Each command is in a packet of the client's, each reply in one
// of the server's, and nothing is explained twice.
TEST(PacketComments, EverySmtpLineIsExplainedByThePacketThatCarriedIt) {
  auto run = run_lesson("greylisting");
  ASSERT_TRUE(run);
  const Explained x(*run);
  const auto& [records, events, explaining] = x;
  std::map<const sim::TraceEvent*, int> times_explained;
  for (std::size_t i = 0; i < records.size(); ++i) {
    for (const sim::TraceEvent* e : explaining[i]) {
      ++times_explained[e];
      if (e->kind == sim::EventKind::kSmtpCommand) {
        EXPECT_NE(wire_bytes(records[i], sim::WireSide::kClient).find(e->text + "\r\n"), std::string::npos)
            << e->text;
      } else if (e->kind == sim::EventKind::kSmtpReply) {
        EXPECT_NE(wire_bytes(records[i], sim::WireSide::kServer).find(e->text + "\r\n"), std::string::npos)
            << e->text;
      } else if (e->kind == sim::EventKind::kConnOpen) {
        EXPECT_TRUE(std::holds_alternative<wire::Connect>(records[i].body));
      } else if (e->kind == sim::EventKind::kDnsQuery) {
        EXPECT_TRUE(std::holds_alternative<wire::DnsQuery>(records[i].body));
      } else if (e->kind == sim::EventKind::kDnsAnswer) {
        EXPECT_TRUE(std::holds_alternative<wire::DnsAnswer>(records[i].body));
      }
    }
  }
  std::size_t lines = 0;
  for (const auto& e : events) {
    if (e.kind == sim::EventKind::kSmtpCommand || e.kind == sim::EventKind::kSmtpReply ||
        e.kind == sim::EventKind::kDnsQuery || e.kind == sim::EventKind::kConnOpen) {
      ++lines;
      EXPECT_EQ(times_explained[&e], 1) << e.text;
    }
  }
  EXPECT_GT(lines, 40u);
}

TEST(PacketComments, CommentNamesTheKeyTheLineAndTheRfc) {
  sim::TraceEvent e;
  e.kind = sim::EventKind::kSmtpCommand;
  e.text = "EHLO laptop.example.org";
  e.explain = "command.ehlo";
  const std::string c = packet_comment(e);
  EXPECT_EQ(c.rfind("[command.ehlo] C: EHLO laptop.example.org | ", 0), 0u) << c;
  EXPECT_NE(c.find("RFC 5321"), std::string::npos) << c;
  // A reply given for a reason says the reason (RFC 6647: greylisting), and
  // cites the whole parenthesis of the code's explanation.
  const sim::TraceEvent r{.kind = sim::EventKind::kSmtpReply,
                          .text = "451 4.7.1 Greylisted, try again in 300 seconds",
                          .code = 451,
                          .explain = "reply.451.greylisted"};
  const std::string g = packet_comment(r);
  EXPECT_NE(g.find("(RFC 5321 4.2.3, 4.5.4.1)"), std::string::npos) << g;
  EXPECT_NE(g.find("greylisting"), std::string::npos) << g;
  e.text = "EHLO \xff\xfe";  // not UTF-8: a pcapng comment must be
  EXPECT_NE(packet_comment(e).find("EHLO \xEF\xBF\xBD\xEF\xBF\xBD"), std::string::npos);
}

struct Segment {
  std::string src, dst;  // "a.b.c.d:port"
  std::uint32_t seq, ack;
  std::uint8_t flags;
  std::string payload;
};

std::uint32_t get32(const u_char* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

// The IPv4 TCP segments of a capture, and how many UDP datagrams to or from port 53.
std::vector<Segment> read_tcp(const std::string& path, std::size_t& dns_packets) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  std::vector<Segment> out;
  if (p == nullptr) return out;
  pcap_pkthdr* h;
  const u_char* d;
  dns_packets = 0;
  while (pcap_next_ex(p, &h, &d) == 1) {
    EXPECT_EQ(d[12], 0x08);
    const u_char* ip = d + 14;
    const std::size_t total = ip[2] << 8 | ip[3];
    EXPECT_EQ(total + 14, h->caplen);
    auto addr = [](const u_char* a, const u_char* port) {
      return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
             std::to_string(a[3]) + ":" + std::to_string(port[0] << 8 | port[1]);
    };
    const u_char* t = ip + 20;
    if (ip[9] == 17) {
      ++dns_packets;
      continue;
    }
    const std::size_t header = (t[12] >> 4) * 4;
    out.push_back({addr(ip + 12, t), addr(ip + 16, t + 2), get32(t + 4), get32(t + 8), t[13],
                   std::string(reinterpret_cast<const char*>(t + header), total - 20 - header)});
  }
  pcap_close(p);
  return out;
}

// Every stream: the handshake first; each segment's sequence number is the
// one after the octets before it; an ACK never names an octet the other side
// has not sent; both ends send a FIN; and the payload, end to end, is what
// the network carried.
void expect_whole_streams(const std::vector<Segment>& segments, const std::vector<WireRecord>& records) {
  struct End {
    bool started = false;
    std::uint32_t next = 0;
    std::string payload;
    bool fin = false;
  };
  std::map<std::pair<std::string, std::string>, End> ends;
  for (const Segment& s : segments) {
    End& me = ends[{s.src, s.dst}];
    End& peer = ends[{s.dst, s.src}];
    if (s.flags & 0x04) continue;  // RST
    if (s.flags & 0x02) {
      EXPECT_FALSE(me.started) << s.src << " sent a second SYN";
      me.started = true;
      me.next = s.seq + 1;
    } else {
      ASSERT_TRUE(me.started) << s.src << " -> " << s.dst << " before its SYN";
      EXPECT_EQ(s.seq, me.next) << s.src << " -> " << s.dst << ": a gap or an overlap";
      me.next += static_cast<std::uint32_t>(s.payload.size()) + ((s.flags & 0x01) ? 1 : 0);
      me.payload += s.payload;
      if (s.flags & 0x01) me.fin = true;
    }
    if (s.flags & 0x10) {
      EXPECT_EQ(s.ack, peer.next) << s.src << " acknowledges what " << s.dst << " never sent";
    }
  }
  std::map<std::uint64_t, std::pair<std::string, std::string>> wire_payload;  // client's, server's
  std::map<std::uint64_t, wire::Connect> connects;
  for (const auto& r : records) {
    if (const auto* c = std::get_if<wire::Connect>(&r.body)) connects[c->connection] = *c;
    if (const auto* b = std::get_if<wire::Bytes>(&r.body)) {
      (b->from == sim::WireSide::kClient ? wire_payload[b->connection].first : wire_payload[b->connection].second) +=
          b->bytes;
    }
  }
  ASSERT_FALSE(connects.empty());
  for (const auto& [id, c] : connects) {
    const End& client = ends[std::pair(c.client, c.server)];
    const End& server = ends[std::pair(c.server, c.client)];
    EXPECT_EQ(client.payload, wire_payload[id].first) << "connection " << id;
    EXPECT_EQ(server.payload, wire_payload[id].second) << "connection " << id;
    EXPECT_TRUE(client.fin && server.fin) << "connection " << id;
  }
}

TEST(CaptureExport, StreamsAreWholeAndDnsIsThere) {
  auto run = run_lesson("greylisting");
  ASSERT_TRUE(run);
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab_capture_export_test.pcapng").string();
  const auto records = run->log->records();
  CaptureOptions options;
  options.host_addresses = run->world->host_addresses();
  auto summary = write_capture(path, records, run->world->trace.events(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->skipped, 0u);
  std::size_t dns_packets = 0;
  const auto segments = read_tcp(path, dns_packets);
  std::size_t queries = 0;
  for (const auto& e : run->world->trace.events()) queries += e.kind == sim::EventKind::kDnsQuery;
  EXPECT_EQ(summary->dns_queries, queries);
  EXPECT_EQ(dns_packets, 2 * queries) << "a query and an answer each";
  expect_whole_streams(segments, records);
  std::filesystem::remove(path);
}

// RFC 3207: after STARTTLS's 220 the client's bytes are TLS records
// (content type 22, handshake, first); no SMTP command is readable on the
// wire, yet each is still explained by a packet of the client's.
TEST(CaptureExport, AfterStartTlsTheWireCarriesRecords) {
  auto run = run_lesson("tls-opportunistic");
  ASSERT_TRUE(run);
  const Explained x(*run);
  const auto& [records, events, explaining] = x;
  std::size_t encrypted_commands = 0;
  std::map<std::uint64_t, bool> after_starttls;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto* b = std::get_if<wire::Bytes>(&records[i].body);
    if (b == nullptr) continue;
    if (b->from == sim::WireSide::kClient && after_starttls[b->connection]) {
      EXPECT_EQ(b->bytes.find("MAIL FROM"), std::string::npos);
      EXPECT_TRUE(b->bytes[0] == 0x16 || b->bytes[0] == 0x17 || b->bytes[0] == 0x14 || b->bytes[0] == 0x15);
      for (const sim::TraceEvent* e : explaining[i]) encrypted_commands += e->kind == sim::EventKind::kSmtpCommand;
    }
    if (b->from == sim::WireSide::kServer && b->bytes.rfind("220 ", 0) == 0 && b->bytes.find("TLS") != std::string::npos) {
      after_starttls[b->connection] = true;
    }
  }
  EXPECT_GT(encrypted_commands, 3u) << "EHLO, MAIL, RCPT, DATA, QUIT inside TLS";
  const std::string path = (std::filesystem::temp_directory_path() / "smtplab_capture_tls_test.pcapng").string();
  CaptureOptions options;
  options.host_addresses = run->world->host_addresses();
  auto summary = write_capture(path, records, events, options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  std::size_t dns_packets = 0;
  expect_whole_streams(read_tcp(path, dns_packets), records);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace smtplab::capture
