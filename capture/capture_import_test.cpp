// Reading captures back: TCP streams put together whatever order the
// segments came in (RFC 9293 3.4, 3.10.7.4), SMTP read from outside as the
// engine's own server records it, what a conforming peer would not send
// found, and bad files refused with their offset.
#include "capture/capture_import.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>

#include "capture/capture_export.hpp"
#include "capture/packet_decode.hpp"
#include "capture/tcp_reassembly.hpp"
#include "capture/tls_decryption.hpp"
#include "scenarios/explanations.hpp"
#include "scenarios/scenario_loader.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/tls/key_log.hpp"

namespace smtplab::capture {
namespace {

const SocketAddress kClient{*parse_ip("192.0.2.10"), 40001};
const SocketAddress kServer{*parse_ip("192.0.2.20"), 25};
const absl::Time kT0 = absl::FromUnixSeconds(1767225600);

// Builds segments of one connection, keeping each side's sequence numbers.
class Conversation {
 public:
  explicit Conversation(std::uint32_t client_isn = 1000, std::uint32_t server_isn = 5000)
      : seq_{client_isn, server_isn} {}
  TcpSegment syn() { return make(0, tcp_flag::kSyn, "", true); }
  TcpSegment syn_ack() { return make(1, tcp_flag::kSyn | tcp_flag::kAck, "", true); }
  TcpSegment client(std::string_view text) { return make(0, tcp_flag::kAck, text); }
  TcpSegment server(std::string_view text) { return make(1, tcp_flag::kAck, text); }
  TcpSegment fin(int side) { return make(side, tcp_flag::kFin | tcp_flag::kAck, "", true); }
  // A segment at a chosen offset from where `side` is now (for gaps, overlaps).
  TcpSegment at_offset(int side, std::int64_t offset, std::string_view text) {
    TcpSegment s = base(side);
    s.seq = static_cast<std::uint32_t>(seq_[side] + offset);
    s.flags = tcp_flag::kAck;
    keep(text, s);
    return s;
  }
  void advance(int side, std::size_t n) { seq_[side] += static_cast<std::uint32_t>(n); }

 private:
  TcpSegment base(int side) {
    TcpSegment s;
    s.at = kT0 + absl::Milliseconds(++tick_);
    s.src = side == 0 ? kClient : kServer;
    s.dst = side == 0 ? kServer : kClient;
    return s;
  }
  void keep(std::string_view text, TcpSegment& s) {
    texts_.push_back(std::make_unique<std::string>(text));
    s.payload = *texts_.back();
  }
  TcpSegment make(int side, std::uint8_t flags, std::string_view text, bool takes_one = false) {
    TcpSegment s = base(side);
    s.seq = seq_[side];
    s.flags = flags;
    keep(text, s);
    seq_[side] += static_cast<std::uint32_t>(text.size()) + (takes_one ? 1 : 0);
    return s;
  }
  std::uint32_t seq_[2];
  int tick_ = 0;
  std::vector<std::unique_ptr<std::string>> texts_;
};

std::string client_text(const std::vector<StreamEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.kind == StreamEvent::Kind::kBytes && e.from_client) out += e.bytes;
    if (e.kind == StreamEvent::Kind::kGap && e.from_client) out += "<gap " + std::to_string(e.missing) + ">";
  }
  return out;
}

TEST(TcpReassembly, OutOfOrderRetransmittedAndOverlappingGiveEachOctetOnce) {
  Conversation c;
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  r.add(c.syn(), ev);
  r.add(c.syn_ack(), ev);
  const TcpSegment ehlo = c.client("EHLO a\r\n");
  const TcpSegment mail = c.client("MAIL FROM:<x@y>\r\n");
  const TcpSegment rcpt = c.client("RCPT TO:<z@w>\r\n");
  r.add(rcpt, ev);  // arrives first: waits for the two before it
  r.add(ehlo, ev);
  r.add(ehlo, ev);  // a retransmission: nothing new
  // Overlaps the end of MAIL and the start of RCPT, with the same octets.
  r.add(c.at_offset(0, -static_cast<std::int64_t>(rcpt.payload.size()) - 5, "@y>\r\nRCPT"), ev);
  r.add(mail, ev);
  EXPECT_EQ(client_text(ev), "EHLO a\r\nMAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n");
  ASSERT_EQ(r.streams().size(), 1u);
  EXPECT_FALSE(r.streams()[0].midstream);
  EXPECT_EQ(r.streams()[0].server.port, 25);
}

TEST(TcpReassembly, SequenceNumbersWrapAroundTwoToThe32) {
  Conversation c(0xfffffff0u);
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  r.add(c.syn(), ev);
  r.add(c.client("0123456789abcdefghijklmnop"), ev);  // crosses 2^32
  r.add(c.client("QUIT\r\n"), ev);
  EXPECT_EQ(client_text(ev), "0123456789abcdefghijklmnopQUIT\r\n");
}

TEST(TcpReassembly, AGapThatNeverFillsIsSaidAndTheStreamGoesOn) {
  Conversation c;
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  r.add(c.syn(), ev);
  r.add(c.client("EHLO a\r\n"), ev);
  c.advance(0, 10);  // ten octets the capture lost
  r.add(c.client("QUIT\r\n"), ev);
  r.finish(ev);
  EXPECT_EQ(client_text(ev), "EHLO a\r\n<gap 10>QUIT\r\n");
}

TEST(TcpReassembly, TooMuchWaitingBehindAGapGivesTheGapUp) {
  Conversation c;
  ReassemblySettings settings;
  settings.max_buffered = 16;
  TcpReassembler r(settings);
  std::vector<StreamEvent> ev;
  r.add(c.syn(), ev);
  c.advance(0, 4);
  r.add(c.client("0123456789"), ev);
  EXPECT_EQ(client_text(ev), "");
  r.add(c.client("0123456789"), ev);  // 20 octets wait: over the limit
  EXPECT_EQ(client_text(ev), "<gap 4>01234567890123456789");
}

TEST(TcpReassembly, AStreamWithoutItsSynStartsWhereTheCaptureDoes) {
  Conversation c;
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  c.advance(1, 200);
  r.add(c.server("250 OK\r\n"), ev);  // the server speaks first in the capture
  r.add(c.client("QUIT\r\n"), ev);
  ASSERT_EQ(r.streams().size(), 1u);
  EXPECT_TRUE(r.streams()[0].midstream);
  EXPECT_EQ(r.streams()[0].server.port, 25) << "port 25 is the server's, SYN or not";
  EXPECT_EQ(client_text(ev), "QUIT\r\n");
}

TEST(TcpReassembly, FinCountsOnlyOnceEverythingBeforeItArrived) {
  Conversation c;
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  r.add(c.syn(), ev);
  const TcpSegment quit = c.client("QUIT\r\n");
  const TcpSegment fin = c.fin(0);
  r.add(fin, ev);
  EXPECT_TRUE(std::none_of(ev.begin(), ev.end(), [](const StreamEvent& e) { return e.kind == StreamEvent::Kind::kClose; }));
  r.add(quit, ev);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, StreamEvent::Kind::kClose);
  EXPECT_EQ(client_text(ev), "QUIT\r\n");
}

TEST(TcpReassembly, ANewSynOnTheSameEndsIsANewStream) {
  TcpReassembler r;
  std::vector<StreamEvent> ev;
  Conversation first;
  r.add(first.syn(), ev);
  r.add(first.fin(0), ev);
  r.add(first.fin(1), ev);
  Conversation second(90000, 95000);
  r.add(second.syn(), ev);
  EXPECT_EQ(r.streams().size(), 2u);
}

// The trace events of one imported conversation.
std::vector<sim::TraceEvent> observe(Conversation& c, const std::vector<std::pair<int, std::string>>& lines) {
  std::vector<TcpSegment> segments = {c.syn(), c.syn_ack()};
  for (const auto& [side, text] : lines) segments.push_back(side == 0 ? c.client(text) : c.server(text));
  return import_segments(segments).events;
}

std::vector<std::string> findings(const std::vector<sim::TraceEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.kind == sim::EventKind::kCaptureFinding) out.push_back(*e.detail(sim::detail_key::kFinding));
  }
  return out;
}

const sim::TraceEvent* first_of(const std::vector<sim::TraceEvent>& events, sim::EventKind kind, std::string_view text) {
  for (const auto& e : events) {
    if (e.kind == kind && e.text == text) return &e;
  }
  return nullptr;
}

// RFC 5321 4.1.1.4 and 4.2: the replies answer the commands in order, the
// text after 354 is the message (dot-stuffing undone), the 250 after the
// final dot answers end_of_data.
TEST(SmtpObserver, ReadsASessionAsTheServerRecordsIt) {
  Conversation c;
  const auto events = observe(c, {{1, "220 mx ESMTP\r\n"},
                                  {0, "EHLO a\r\n"},
                                  {1, "250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n"},
                                  {0, "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\nDATA\r\n"},
                                  {1, "250 OK\r\n250 OK\r\n354 go\r\n"},
                                  {0, "Subject: s\r\n\r\n..dot\r\n.\r\n"},
                                  {1, "250 queued\r\n"},
                                  {0, "QUIT\r\n"},
                                  {1, "221 bye\r\n"}});
  const sim::TraceEvent* greeting = first_of(events, sim::EventKind::kSmtpReply, "220 mx ESMTP");
  ASSERT_NE(greeting, nullptr);
  EXPECT_EQ(*greeting->detail(sim::detail_key::kAnswers), "greeting");
  const sim::TraceEvent* rcpt = first_of(events, sim::EventKind::kSmtpCommand, "RCPT TO:<z@w>");
  ASSERT_NE(rcpt, nullptr);
  EXPECT_EQ(rcpt->explain, "command.rcpt");
  ASSERT_NE(rcpt->detail(sim::detail_key::kPipelined), nullptr) << "sent in one write with MAIL (RFC 2920)";
  const sim::TraceEvent* go = first_of(events, sim::EventKind::kSmtpReply, "354 go");
  ASSERT_NE(go, nullptr);
  EXPECT_EQ(*go->detail(sim::detail_key::kAnswers), "DATA");
  const sim::TraceEvent* data = first_of(events, sim::EventKind::kSmtpData, "(message text, 20 octets)");
  EXPECT_NE(data, nullptr) << "12 + 2 + 6 octets once unstuffed (RFC 5321 4.5.2)";
  const sim::TraceEvent* queued = first_of(events, sim::EventKind::kSmtpReply, "250 queued");
  ASSERT_NE(queued, nullptr);
  EXPECT_EQ(*queued->detail(sim::detail_key::kAnswers), "end_of_data");
  EXPECT_EQ(queued->code, 250);
  EXPECT_EQ(first_of(events, sim::EventKind::kSmtpCommand, "Subject: s"), nullptr) << "message text is no command";
  EXPECT_TRUE(findings(events).empty());
}

// RFC 5321 2.3.8 and SMTP smuggling: <LF>.<LF> inside the text is found,
// and the smuggled MAIL after it stays message text, as a conforming server
// reads it.
TEST(SmtpObserver, FindsBareLfAndASmugglingShapedEndOfData) {
  Conversation c;
  const auto events = observe(c, {{1, "220 mx\r\n"},
                                  {0, "EHLO a\r\n"},
                                  {1, "250 mx\r\n"},
                                  {0, "MAIL FROM:<x@y>\r\n"},
                                  {1, "250 OK\r\n"},
                                  {0, "RCPT TO:<z@w>\r\n"},
                                  {1, "250 OK\r\n"},
                                  {0, "DATA\r\n"},
                                  {1, "354 go\r\n"},
                                  {0, "text\n.\nMAIL FROM:<forged@bank>\r\n.\r\n"},
                                  {1, "250 queued\r\n"}});
  const auto f = findings(events);
  EXPECT_NE(std::find(f.begin(), f.end(), "smuggling_end"), f.end());
  EXPECT_NE(std::find(f.begin(), f.end(), "bare_lf"), f.end());
  EXPECT_EQ(first_of(events, sim::EventKind::kSmtpCommand, "MAIL FROM:<forged@bank>"), nullptr);
}

// RFC 2920 3.1: without PIPELINING in the EHLO reply a client waits for each reply.
TEST(SmtpObserver, FindsPipeliningTheServerNeverOffered) {
  Conversation c;
  const auto events = observe(c, {{1, "220 mx\r\n"},
                                  {0, "EHLO a\r\n"},
                                  {1, "250 mx\r\n"},
                                  {0, "MAIL FROM:<x@y>\r\nRCPT TO:<z@w>\r\n"},
                                  {1, "250 OK\r\n250 OK\r\n"}});
  EXPECT_EQ(findings(events), std::vector<std::string>{"unadvertised_pipelining"});
}

// RFC 4954 4 and 14: AUTH before TLS is marked in_clear; the LOGIN
// exchange's lines are SASL, not commands; after STARTTLS's 220 nothing
// more is read (RFC 3207).
TEST(SmtpObserver, AuthInTheClearSaslLinesAndStartTls) {
  Conversation c;
  const auto events = observe(c, {{1, "220 mx\r\n"},
                                  {0, "EHLO a\r\n"},
                                  {1, "250-mx\r\n250-AUTH LOGIN\r\n250 STARTTLS\r\n"},
                                  {0, "AUTH LOGIN\r\n"},
                                  {1, "334 VXNlcm5hbWU6\r\n"},
                                  {0, "YWxpY2U=\r\n"},
                                  {1, "334 UGFzc3dvcmQ6\r\n"},
                                  {0, "c2VjcmV0\r\n"},
                                  {1, "235 ok\r\n"},
                                  {0, "STARTTLS\r\n"},
                                  {1, "220 go ahead\r\n"},
                                  {0, std::string("\x16\x03\x01\x00\x05hello", 10)}});
  const sim::TraceEvent* auth = first_of(events, sim::EventKind::kSmtpCommand, "AUTH LOGIN");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->explain, "command.auth.in_clear");
  const sim::TraceEvent* user = first_of(events, sim::EventKind::kSmtpCommand, "YWxpY2U=");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->explain, "command.auth_response");
  const sim::TraceEvent* ok = first_of(events, sim::EventKind::kSmtpReply, "235 ok");
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(*ok->detail(sim::detail_key::kAnswers), "auth_response");
  EXPECT_NE(first_of(events, sim::EventKind::kSmtpStartTls, "STARTTLS accepted; TLS handshake"), nullptr);
  EXPECT_EQ(findings(events), std::vector<std::string>{"encrypted"});
}

TEST(SmtpObserver, ServerBytesThatAreNotRepliesAreSaidOnce) {
  Conversation c;
  const auto events = observe(c, {{1, "SSH-2.0-OpenSSH_9.2\r\n"}, {0, "EHLO a\r\n"}, {1, "more\r\n"}});
  EXPECT_EQ(findings(events), std::vector<std::string>{"not_smtp"});
}

// Every finding the import makes has its own explanation and only the
// details trace_kinds.hpp lists for capture.finding (the trace contract,
// for the one kind only this layer records).
TEST(CaptureFindingContract, EachFindingIsExplainedAndCarriesOnlyItsDetails) {
  namespace f = sim::capture_finding;
  const std::string fallback = "Something the import of the capture noticed.";
  for (const char* finding : {f::kMidstream, f::kGap, f::kBareLf, f::kSmugglingEnd, f::kUnadvertisedPipelining,
                              f::kEncrypted, f::kNotSmtp}) {
    sim::TraceEvent e{.kind = sim::EventKind::kCaptureFinding, .explain = std::string("capture.") + finding};
    e.details = {{sim::detail_key::kFinding, finding}};
    EXPECT_NE(scenarios::explain_event(e), fallback) << finding;
  }
  Conversation c;
  std::vector<TcpSegment> segments = {c.syn(), c.syn_ack(), c.server("220 mx\r\n"), c.client("EHLO a\r\n")};
  c.advance(0, 7);
  segments.push_back(c.client("QUIT\r\n"));
  const auto events = import_segments(segments).events;
  bool gap = false;
  for (const auto& e : events) {
    if (e.kind != sim::EventKind::kCaptureFinding) continue;
    for (const auto& [key, value] : e.details) EXPECT_TRUE(key == "finding" || key == "octets") << key;
    gap = gap || *e.detail("finding") == "gap";
  }
  EXPECT_TRUE(gap);
}

// A lesson exported with --pcap and read back: each connection's commands
// and replies (text, code, what each answers) and message sizes are the
// trace's; without the key log up to STARTTLS (RFC 3207), after which the
// capture holds records only, and with it to the end (RFC 8446).
void expect_round_trip(const std::string& lesson, bool with_key_log = false, const std::string& yaml = "",
                       std::vector<sim::TraceEvent>* read_back = nullptr) {
  auto loaded = yaml.empty() ? scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/" + lesson + ".yaml")
                             : scenarios::load_scenario_text(yaml, lesson + ".yaml");
  ASSERT_TRUE(loaded.ok()) << loaded.error_text();
  const std::string path = (std::filesystem::temp_directory_path() / ("smtplab_round_trip_" + lesson + ".pcapng")).string();
  const std::string keys_path = path + ".keys";
  std::filesystem::remove(keys_path);
  if (with_key_log) {
    ASSERT_TRUE(tls::open_key_log(keys_path).ok());
  }
  scenarios::ScenarioWorld world(*loaded.scenario, loaded.scenario->seed);
  WireLog log(world.clock().epoch(), &world.trace);
  world.set_wire_observer(&log);
  ASSERT_TRUE(world.build().ok());
  world.run();
  std::optional<KeyLog> keys;
  ImportOptions import;
  if (with_key_log) {
    ASSERT_TRUE(tls::close_key_log().ok());
    auto read = KeyLog::read(keys_path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_GT(read->size(), 0u);
    keys = *std::move(read);
    import.keys = &*keys;
    std::filesystem::remove(keys_path);
  }
  CaptureOptions options;
  options.host_addresses = world.host_addresses();
  ASSERT_TRUE(write_capture(path, log.records(), world.trace.events(), options).ok());
  auto imported = import_capture(path, import);
  ASSERT_TRUE(imported.ok()) << imported.status();
  std::filesystem::remove(path);
  if (read_back != nullptr) *read_back = imported->events;

  using Line = std::tuple<sim::EventKind, std::string, int, std::string>;
  auto by_connection = [with_key_log](const std::vector<sim::TraceEvent>& events) {
    std::map<std::string, std::uint64_t> ends;  // conn.open's text -> id
    std::map<std::uint64_t, std::vector<Line>> lines;
    std::set<std::uint64_t> encrypted;
    for (const auto& e : events) {
      if (e.kind == sim::EventKind::kConnOpen) ends[e.text] = e.connection;
      if (encrypted.count(e.connection)) continue;
      if (e.kind == sim::EventKind::kSmtpCommand || e.kind == sim::EventKind::kSmtpReply ||
          e.kind == sim::EventKind::kSmtpData) {
        const std::string* answers = e.detail(sim::detail_key::kAnswers);
        lines[e.connection].emplace_back(e.kind, e.text, e.code, answers ? *answers : "");
      }
      if (e.kind == sim::EventKind::kSmtpStartTls && !with_key_log) encrypted.insert(e.connection);
    }
    std::map<std::string, std::vector<Line>> out;
    for (const auto& [text, id] : ends) out[text] = lines[id];
    return out;
  };
  const auto expected = by_connection(world.trace.events());
  const auto got = by_connection(imported->events);
  EXPECT_EQ(got.size(), expected.size());
  for (const auto& [ends, lines] : expected) {
    auto it = got.find(ends);
    ASSERT_NE(it, got.end()) << ends;
    EXPECT_EQ(it->second, lines) << lesson << ": " << ends;
  }
}

TEST(CaptureRoundTrip, GreylistingReadsBackAsItsTrace) { expect_round_trip("greylisting"); }
TEST(CaptureRoundTrip, PipeliningReadsBackAsItsTrace) { expect_round_trip("pipelining"); }
TEST(CaptureRoundTrip, ConnectionReuseReadsBackAsItsTrace) { expect_round_trip("connection-reuse"); }
TEST(CaptureRoundTrip, DotStuffingReadsBackAsItsTrace) { expect_round_trip("dot-stuffing"); }
TEST(CaptureRoundTrip, StartTlsReadsBackUpToTheHandshake) { expect_round_trip("tls-opportunistic"); }
TEST(CaptureRoundTrip, StartTlsWithTheKeyLogReadsBackWhole) { expect_round_trip("tls-opportunistic", true); }
TEST(CaptureRoundTrip, ImplicitTlsWithTheKeyLogReadsBackWhole) { expect_round_trip("submission-implicit-tls", true); }

// A server that stops at TLS 1.2: the key log's CLIENT_RANDOM line is the
// master secret, and the records after each ChangeCipherSpec open with the
// key block (RFC 5246 6.3; AES-GCM, RFC 5288).
TEST(CaptureRoundTrip, Tls12WithTheKeyLogReadsBackWhole) {
  std::vector<sim::TraceEvent> events;
  expect_round_trip("tls12", true, R"(
title: TLS 1.2 hop
domains:
  example.org: {users: [alice], tls: {outgoing: may}}
  example.net: {users: [bob], tls: {max_version: "1.2"}}
send: {from: alice@example.org, to: bob@example.net}
)",
                    &events);
  bool tls12 = false;
  for (const auto& e : events) {
    if (e.kind == sim::EventKind::kTlsEstablished && *e.detail(sim::detail_key::kVersion) == "TLSv1.2") tls12 = true;
  }
  EXPECT_TRUE(tls12) << "the hop to example.net was TLS 1.2, and opened";
}

TEST(KeyLog, ALineThatIsNotOneIsRefusedWithItsNumber) {
  const std::string random(64, 'a');
  auto good = KeyLog::parse("# comment\nCLIENT_TRAFFIC_SECRET_0 " + random + " 0011\n", "keys");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_NE(good->secret("CLIENT_TRAFFIC_SECRET_0", std::string(32, '\xaa')), nullptr);
  EXPECT_EQ(good->secret("SERVER_TRAFFIC_SECRET_0", std::string(32, '\xaa')), nullptr);
  auto bad = KeyLog::parse("CLIENT_RANDOM " + random + " 0011\nCLIENT_RANDOM xyz 0011\n", "keys");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("keys: line 2"), std::string::npos) << bad.status();
}

// The secrets of another session open nothing: the import says so and
// reads no further, rather than showing garbage (RFC 8446 5.2: the AEAD tag).
TEST(CaptureImport, SecretsOfAnotherSessionOpenNothing) {
  const std::string random(64, 'b');
  auto keys = KeyLog::parse("CLIENT_HANDSHAKE_TRAFFIC_SECRET " + random + " " + std::string(64, '1') + "\n", "keys");
  ASSERT_TRUE(keys.ok());
  ImportOptions import;
  import.keys = &*keys;
  const auto events = import_capture(SMTPLAB_CAPTURE_TESTDATA_DIR "/tls-opportunistic.pcapng", import);
  ASSERT_TRUE(events.ok()) << events.status();
  std::size_t closed = 0;
  for (const auto& e : events->events) {
    if (e.kind == sim::EventKind::kCaptureFinding && *e.detail("finding") == "encrypted") {
      ++closed;
      EXPECT_NE(e.text.find("the key log has no"), std::string::npos) << e.text;
    }
    EXPECT_NE(e.kind, sim::EventKind::kTlsEstablished);
  }
  EXPECT_EQ(closed, 3u) << "each of the three TLS connections";
}

// The checked-in capture with its own key log opens; with one octet of
// each secret changed, the first protected record's tag does not verify.
TEST(CaptureImport, ATamperedSecretOpensNoRecord) {
  std::ifstream in(SMTPLAB_CAPTURE_TESTDATA_DIR "/tls-opportunistic.keys");
  std::stringstream text;
  text << in.rdbuf();
  auto keys = KeyLog::parse(text.str(), "keys");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ImportOptions import;
  import.keys = &*keys;
  auto good = import_capture(SMTPLAB_CAPTURE_TESTDATA_DIR "/tls-opportunistic.pcapng", import);
  ASSERT_TRUE(good.ok());
  EXPECT_NE(first_of(good->events, sim::EventKind::kSmtpCommand, "MAIL FROM:<alice@example.org> SIZE=311"), nullptr);

  std::string tampered;
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    line.back() = line.back() == '0' ? '1' : '0';  // the secret's last hex digit
    tampered += line + "\n";
  }
  auto bad_keys = KeyLog::parse(tampered, "tampered");
  ASSERT_TRUE(bad_keys.ok());
  import.keys = &*bad_keys;
  auto bad = import_capture(SMTPLAB_CAPTURE_TESTDATA_DIR "/tls-opportunistic.pcapng", import);
  ASSERT_TRUE(bad.ok());
  bool said = false;
  for (const auto& e : bad->events) {
    said = said || (e.kind == sim::EventKind::kCaptureFinding && e.text.find("does not open") != std::string::npos);
  }
  EXPECT_TRUE(said);
  EXPECT_EQ(first_of(bad->events, sim::EventKind::kSmtpCommand, "MAIL FROM:<alice@example.org> SIZE=311"), nullptr);
}

std::string scratch(const std::string& name) { return (std::filesystem::temp_directory_path() / name).string(); }

// A classic pcap file of `frames` under link type `dlt`, written by libpcap.
void write_pcap(const std::string& path, int dlt, const std::vector<std::string>& frames) {
  pcap_t* dead = pcap_open_dead(dlt, 65535);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  ASSERT_NE(d, nullptr) << pcap_geterr(dead);
  for (const std::string& frame : frames) {
    pcap_pkthdr ph{};
    ph.caplen = ph.len = static_cast<bpf_u_int32>(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(d), &ph, reinterpret_cast<const u_char*>(frame.data()));
  }
  pcap_dump_close(d);
  pcap_close(dead);
}

TEST(CaptureImport, NotACaptureIsRefusedAtOffsetZero) {
  const std::string path = scratch("smtplab_not_a_capture.pcap");
  std::ofstream(path) << "EHLO this is a transcript, not a capture\r\n";
  auto r = import_capture(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("at offset 0"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status();
  EXPECT_FALSE(looks_like_capture(path));
  std::filesystem::remove(path);
}

TEST(CaptureImport, ACaptureCutShortNamesTheOffset) {
  const std::string path = scratch("smtplab_cut_short.pcap");
  TcpHeader h;
  h.flags = tcp_flag::kSyn;
  const std::string frame = tcp_frame(kClient, kServer, h, {}, 1);
  write_pcap(path, DLT_EN10MB, {frame, frame, frame});
  EXPECT_TRUE(looks_like_capture(path));
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);  // the third packet loses its end
  auto r = import_capture(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("after 2 packets"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("offset"), std::string::npos) << r.status();
  std::filesystem::remove(path);
}

TEST(CaptureImport, ALinkTypeItDoesNotReadIsSaid) {
  const std::string path = scratch("smtplab_usb_capture.pcap");
  write_pcap(path, DLT_USB_LINUX, {});
  auto r = import_capture(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("link type 189"), std::string::npos) << r.status();
  std::filesystem::remove(path);
}

// Frames decode down to TCP through each link layer libpcap hands over.
TEST(PacketDecode, EthernetVlanRawAndCookedAllReachTcp) {
  TcpHeader h;
  h.flags = tcp_flag::kAck;
  const std::string eth = tcp_frame(kClient, kServer, h, "QUIT\r\n", 1);
  const std::string ip = eth.substr(14);
  auto payload_of = [](const Decoded& d) { return d.segment ? std::string(d.segment->payload) : "(none)"; };
  EXPECT_EQ(payload_of(decode_frame(kDltEthernet, eth, kT0)), "QUIT\r\n");
  std::string vlan = eth.substr(0, 12) + std::string("\x81\x00\x00\x05", 4) + eth.substr(12);
  EXPECT_EQ(payload_of(decode_frame(kDltEthernet, vlan, kT0)), "QUIT\r\n");
  EXPECT_EQ(payload_of(decode_frame(kDltRaw, ip, kT0)), "QUIT\r\n");
  EXPECT_EQ(payload_of(decode_frame(kDltNull, std::string("\x02\x00\x00\x00", 4) + ip, kT0)), "QUIT\r\n");
  std::string sll(16, '\0');
  sll[14] = 0x08;
  EXPECT_EQ(payload_of(decode_frame(kDltLinuxSll, sll + ip, kT0)), "QUIT\r\n");
  std::string sll2(20, '\0');
  sll2[0] = 0x08;
  EXPECT_EQ(payload_of(decode_frame(kDltLinuxSll2, sll2 + ip, kT0)), "QUIT\r\n");
  // Cut anywhere, it is never a segment and never read past its end.
  for (std::size_t n = 0; n < eth.size() - 6; ++n) {
    EXPECT_FALSE(decode_frame(kDltEthernet, eth.substr(0, n), kT0).segment) << n;
  }
  std::string fragment = eth;
  fragment[14 + 6] = 0x20;  // more fragments
  EXPECT_EQ(decode_frame(kDltEthernet, fragment, kT0).why, NotTcp::kFragment);
}

}  // namespace
}  // namespace smtplab::capture
