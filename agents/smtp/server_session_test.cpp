#include "agents/smtp/server_session.hpp"

#include <gtest/gtest.h>

#include "agents/smtp/sasl.hpp"
#include "agents/smtp/testing/recording_policy.hpp"

namespace smtplab::smtp {
namespace {

using testing::RecordingPolicy;

std::vector<Reply> parse_replies(std::string_view bytes) {
  ReplyParser parser;
  parser.feed(bytes);
  std::vector<Reply> out;
  while (auto r = parser.next()) {
    EXPECT_TRUE(r->ok()) << r->status();
    if (r->ok()) out.push_back(**r);
  }
  return out;
}

class Server {
 public:
  explicit Server(ServerSettings settings = {}) : session_(policy, settings, "192.0.2.7:4000") {
    session_.start();
    greeting = parse_replies(session_.take_output());
  }
  std::vector<Reply> send(std::string_view bytes) {
    session_.receive(bytes);
    return parse_replies(session_.take_output());
  }
  std::vector<int> codes(std::string_view bytes) {
    std::vector<int> out;
    for (const Reply& r : send(bytes)) out.push_back(r.code);
    return out;
  }
  int code(std::string_view bytes) {
    auto c = codes(bytes);
    EXPECT_EQ(c.size(), 1u) << bytes;
    return c.empty() ? 0 : c[0];
  }
  ServerSession& session() { return session_; }

  RecordingPolicy policy;
  std::vector<Reply> greeting;

 private:
  ServerSession session_;
};

using Codes = std::vector<int>;

// RFC 5321 4.3.1 and 4.2: greeting 220 with the server's name first.
TEST(ServerSessionTest, GreetsWith220AndName) {
  ServerSettings settings;
  settings.hostname = "mx.example.org";
  Server s(settings);
  ASSERT_EQ(s.greeting.size(), 1u);
  EXPECT_EQ(s.greeting[0].code, 220);
  EXPECT_EQ(s.greeting[0].lines[0].rfind("mx.example.org ", 0), 0u);
}

// RFC 5321 4.1.1.1: the EHLO reply is multi-line and lists extensions.
TEST(ServerSessionTest, EhloListsExtensions) {
  Server s;
  auto r = s.send("EHLO client.example\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 250);
  const auto& lines = r[0].lines;
  for (std::string_view ext : {"PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8", "CHUNKING", "DSN",
                               "ENHANCEDSTATUSCODES"}) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), ext), lines.end()) << ext;
  }
  EXPECT_EQ(std::find(lines.begin(), lines.end(), "STARTTLS"), lines.end());  // not configured
}

TEST(ServerSessionTest, HeloGetsOneLine) {
  Server s;
  auto r = s.send("HELO client.example\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].lines.size(), 1u);
}

TEST(ServerSessionTest, FullTransaction) {
  Server s;
  EXPECT_EQ(s.codes("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n"),
            (Codes{250, 250, 250, 354}));
  EXPECT_EQ(s.codes("Subject: hi\r\n\r\n..dot\r\n.\r\n"), (Codes{250}));
  ASSERT_EQ(s.policy.stored.size(), 1u);
  EXPECT_EQ(s.policy.stored[0].message, "Subject: hi\r\n\r\n.dot\r\n");
  EXPECT_EQ(s.policy.stored[0].envelope.reverse_path.mailbox.to_string(), "a@b.example");
  EXPECT_EQ(s.code("QUIT\r\n"), 221);
  EXPECT_TRUE(s.session().wants_close());
}

// RFC 5321 4.1.4 / 3.3: commands out of order get 503.
TEST(ServerSessionTest, SequencingErrorsAre503) {
  Server s;
  EXPECT_EQ(s.code("MAIL FROM:<a@b.example>\r\n"), 503);  // before EHLO
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.code("RCPT TO:<c@d.example>\r\n"), 503);    // before MAIL
  EXPECT_EQ(s.code("DATA\r\n"), 503);                      // before MAIL
  EXPECT_EQ(s.code("MAIL FROM:<a@b.example>\r\n"), 250);
  EXPECT_EQ(s.code("MAIL FROM:<a@b.example>\r\n"), 503);  // nested
  EXPECT_EQ(s.code("DATA\r\n"), 503);                      // before RCPT
  EXPECT_EQ(s.code("RSET\r\n"), 250);
  EXPECT_EQ(s.code("NOOP\r\n"), 250);
}

// RFC 2920 3.1: DATA with no valid recipient fails (503 or 554).
TEST(ServerSessionTest, DataWithoutValidRecipientIs554) {
  Server s;
  EXPECT_EQ(s.codes("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<nobody@d.example>\r\nDATA\r\n"),
            (Codes{250, 250, 550, 554}));
}

// RFC 2920: pipelined commands are answered in order, one reply each.
TEST(ServerSessionTest, PipelinedRepliesInOrder) {
  Server s;
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.codes("MAIL FROM:<a@b.example>\r\nRCPT TO:<x@d.example>\r\nRCPT TO:<nobody@d.example>\r\n"
                    "RCPT TO:<later@d.example>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n"),
            (Codes{250, 250, 550, 450, 354, 250, 221}));
  ASSERT_EQ(s.policy.stored.size(), 1u);
  EXPECT_EQ(s.policy.stored[0].envelope.recipients.size(), 1u);
}

TEST(ServerSessionTest, SyntaxErrors) {
  Server s;
  EXPECT_EQ(s.code("FOO bar\r\n"), 500);
  EXPECT_EQ(s.code("EHLO\r\n"), 501);
  EXPECT_EQ(s.code("TURN\r\n"), 502);
  EXPECT_EQ(s.code("EXPN staff\r\n"), 502);
  EXPECT_EQ(s.code("VRFY bob\r\n"), 252);  // RFC 5321 3.5.3
  s.send("EHLO c.example\r\n");
  auto r = s.send("MAIL FROM:<a@b example>\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 501);
  EXPECT_EQ(r[0].enhanced, "5.1.7");
  EXPECT_NE(r[0].text().find("column"), std::string::npos);
  EXPECT_EQ(s.code("MAIL FROM:<a@b.example> BOGUS=1\r\n"), 555);  // RFC 5321 4.2.3
}

// RFC 5321 4.5.3.1.4: command lines longer than 512 octets.
TEST(ServerSessionTest, CommandLineLimit) {
  Server s;
  EXPECT_EQ(s.code("NOOP " + std::string(505, 'x') + "\r\n"), 250);  // 512 with CRLF
  EXPECT_EQ(s.code("NOOP " + std::string(506, 'x') + "\r\n"), 500);
  // Far longer than any buffer: discarded as it streams in, then answered once.
  EXPECT_TRUE(s.codes(std::string(100000, 'y')).empty());
  EXPECT_EQ(s.code("\r\n"), 500);
  EXPECT_EQ(s.code("NOOP\r\n"), 250);
}

// RFC 5321 2.3.8: bare LF is not a line end; the default refuses it.
TEST(ServerSessionTest, BareLfCommandRefused) {
  Server s;
  EXPECT_EQ(s.code("NOOP\n"), 500);
  // The refused line goes on to its CRLF: what comes before it gets no reply.
  EXPECT_TRUE(s.codes("QUIT\n").empty());
  EXPECT_TRUE(s.codes("\r\n").empty());
  EXPECT_EQ(s.code(std::string("NO\0OP\r\n", 7)), 500);
  EXPECT_EQ(s.code("NOOP\r\n"), 250);
}

// SMTP smuggling: "<LF>.<LF>" must not end the data and must not let the
// text after it run as commands.
TEST(ServerSessionTest, SmuggledCommandsAreNotExecuted) {
  Server s;
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
  auto codes = s.codes("hello\n.\nMAIL FROM:<evil@e.example>\r\nRCPT TO:<victim@d.example>\r\nDATA\r\nevil\r\n.\r\n");
  EXPECT_EQ(codes, (Codes{554}));  // the whole text was one (refused) message
  EXPECT_TRUE(s.policy.stored.empty());
}

TEST(ServerSessionTest, UnsafeModeShowsTheSmuggling) {
  ServerSettings settings;
  settings.bare_line_ending = BareLineEnding::kAcceptAsLineEnd;
  Server s(settings);
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
  auto codes = s.codes("hello\n.\nMAIL FROM:<evil@e.example>\r\nRCPT TO:<victim@d.example>\r\nDATA\r\nevil\r\n.\r\n");
  EXPECT_EQ(codes, (Codes{250, 250, 250, 354, 250}));
  ASSERT_EQ(s.policy.stored.size(), 2u);
  EXPECT_EQ(s.policy.stored[1].envelope.reverse_path.mailbox.to_string(), "evil@e.example");
}

// RFC 1870 6: a declared SIZE over the limit is refused at MAIL; an actual
// message over it is read to the end and refused with 552.
TEST(ServerSessionTest, SizeLimits) {
  ServerSettings settings;
  settings.max_message_octets = 100;
  Server s(settings);
  s.send("EHLO c.example\r\n");
  auto r = s.send("MAIL FROM:<a@b.example> SIZE=101\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 552);
  EXPECT_EQ(r[0].enhanced, "5.3.4");
  s.send("MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\nDATA\r\n");
  EXPECT_EQ(s.codes(std::string(200, 'x') + "\r\n.\r\nNOOP\r\n"), (Codes{552, 250}));
  EXPECT_TRUE(s.policy.stored.empty());
}

// RFC 5321 4.5.3.1.8/4.5.3.1.10: at least 100 recipients, then 452.
TEST(ServerSessionTest, RecipientLimit) {
  Server s;
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\n");
  std::string rcpts;
  for (int i = 0; i < 101; ++i) rcpts += "RCPT TO:<u" + std::to_string(i) + "@d.example>\r\n";
  auto codes = s.codes(rcpts);
  ASSERT_EQ(codes.size(), 101u);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), 250), 100);
  EXPECT_EQ(codes.back(), 452);
}

// RFC 3030: BDAT chunks, no dot-stuffing, 250 per chunk.
TEST(ServerSessionTest, BdatChunks) {
  Server s;
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  EXPECT_EQ(s.codes("BDAT 6\r\n.abc\r\n"), (Codes{250}));
  EXPECT_EQ(s.codes("BDAT 4 LAST\r\n.\r\n"), Codes{});  // one octet still missing
  EXPECT_EQ(s.codes("X"), (Codes{250}));
  ASSERT_EQ(s.policy.stored.size(), 1u);
  EXPECT_EQ(s.policy.stored[0].message, ".abc\r\n.\r\nX");
}

// RFC 3030 2: a refused BDAT still has its chunk read, so the chunk's bytes
// are never taken as commands.
TEST(ServerSessionTest, RefusedBdatChunkIsSkipped) {
  Server s;
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.codes("BDAT 12 LAST\r\nQUIT\r\nQUIT\r\nNOOP\r\n"), (Codes{503, 250}));
  EXPECT_FALSE(s.session().wants_close());
}

// A chunk size near 2^64 must not wrap the size check (it once did, and the
// chunk was stored without limit): refused at once, and the server hangs up.
TEST(ServerSessionTest, HugeBdatChunkIsRefusedNotStored) {
  ServerSettings settings;
  settings.max_message_octets = 1000;
  Server s(settings);
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  EXPECT_EQ(s.codes("BDAT 10\r\n0123456789"), (Codes{250}));
  EXPECT_EQ(s.codes("BDAT 18446744073709551606 LAST\r\n"), (Codes{552, 421}));
  EXPECT_TRUE(s.session().wants_close());
  EXPECT_TRUE(s.policy.stored.empty());
}

// RFC 3030 2: a BDAT line refused for its form (here a bare LF) still has
// its chunk skipped, so the chunk cannot run as commands.
TEST(ServerSessionTest, RefusedBdatLineStillSkipsItsChunk) {
  Server s;
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  EXPECT_EQ(s.codes("BDAT 6 LAST\nQUIT\r\nNOOP\r\n"), (Codes{500, 250}));
  EXPECT_FALSE(s.session().wants_close());
}

// RFC 4954 4: any reply but 334 ends the SASL exchange, errors included.
TEST(ServerSessionTest, ErrorDuringAuthEndsTheExchange) {
  ServerSettings settings;
  settings.offer_auth = true;
  settings.auth_requires_tls = false;
  Server s(settings);
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.code("AUTH LOGIN\r\n"), 334);
  EXPECT_EQ(s.code(std::string("dXNlcg==\0\r\n", 11)), 500);
  EXPECT_EQ(s.code("QUIT\r\n"), 221);  // a command again, not a password
}

// RFC 3207 4.2 and CVE-2011-0411: commands pipelined after STARTTLS are dropped.
TEST(ServerSessionTest, StarttlsDiscardsPipelinedPlaintext) {
  ServerSettings settings;
  settings.offer_starttls = true;
  Server s(settings);
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.codes("STARTTLS\r\nMAIL FROM:<evil@e.example>\r\n"), (Codes{220}));
  EXPECT_TRUE(s.session().awaiting_tls());
  s.session().tls_established();
  EXPECT_TRUE(s.session().state().tls_active);
  // The session starts over: EHLO is needed again, and no MAIL was kept.
  EXPECT_EQ(s.code("RCPT TO:<c@d.example>\r\n"), 503);
  auto r = s.send("EHLO c.example\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(std::find(r[0].lines.begin(), r[0].lines.end(), "STARTTLS"), r[0].lines.end());
  EXPECT_EQ(s.code("STARTTLS\r\n"), 503);
}

// RFC 4954: AUTH PLAIN with an initial response, and AUTH LOGIN step by step.
TEST(ServerSessionTest, AuthPlainAndLogin) {
  ServerSettings settings;
  settings.offer_auth = true;
  settings.auth_requires_tls = false;
  Server s(settings);
  s.send("EHLO c.example\r\n");
  EXPECT_EQ(s.code("AUTH PLAIN " + encode_plain("", "alice", "wrong") + "\r\n"), 535);
  EXPECT_EQ(s.code("AUTH PLAIN " + encode_plain("", "alice", "s3cret") + "\r\n"), 235);
  EXPECT_EQ(s.code("AUTH PLAIN\r\n"), 503);  // already authenticated

  Server t(settings);
  t.send("EHLO c.example\r\n");
  auto r = t.send("AUTH LOGIN\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 334);
  EXPECT_EQ(r[0].text(), kLoginUserPrompt);
  EXPECT_EQ(t.code(base64_encode("alice") + "\r\n"), 334);
  EXPECT_EQ(t.code(base64_encode("s3cret") + "\r\n"), 235);
  EXPECT_EQ(t.session().state().authenticated_user, "alice");

  Server u(settings);
  u.send("EHLO c.example\r\n");
  EXPECT_EQ(u.code("AUTH PLAIN\r\n"), 334);
  EXPECT_EQ(u.code("*\r\n"), 501);         // cancelled
  EXPECT_EQ(u.code("AUTH CRAM-MD5\r\n"), 504);
  EXPECT_EQ(u.code("AUTH PLAIN !!!!\r\n"), 501);
}

// RFC 4954 6 / RFC 8314: no AUTH before TLS when TLS is required for it.
TEST(ServerSessionTest, AuthBeforeTlsRefused) {
  ServerSettings settings;
  settings.offer_auth = true;
  settings.offer_starttls = true;
  Server s(settings);
  auto ehlo = s.send("EHLO c.example\r\n");
  ASSERT_EQ(ehlo.size(), 1u);
  EXPECT_EQ(std::find(ehlo[0].lines.begin(), ehlo[0].lines.end(), "AUTH PLAIN LOGIN"), ehlo[0].lines.end());
  auto r = s.send("AUTH PLAIN " + encode_plain("", "alice", "s3cret") + "\r\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 538);
  EXPECT_EQ(r[0].enhanced, "5.7.11");
}

// RFC 5321 3.1: a 554 greeting, then 503 to everything but QUIT.
TEST(ServerSessionTest, RefusedConnectionOnlyAllowsQuit) {
  struct Refuser : RecordingPolicy {
    std::optional<Reply> on_connect(const SessionState&) override {
      return make_reply(554, "", "No SMTP service here");
    }
  } policy;
  ServerSession session(policy, {}, "peer");
  session.start();
  EXPECT_EQ(session.take_output(), "554 No SMTP service here\r\n");
  session.receive("EHLO c.example\r\n");
  EXPECT_EQ(parse_replies(session.take_output())[0].code, 503);
  session.receive("QUIT\r\n");
  EXPECT_EQ(parse_replies(session.take_output())[0].code, 221);
  EXPECT_TRUE(session.wants_close());
}

// Postfix smtpd_hard_error_limit: a client that only sends junk is cut off.
TEST(ServerSessionTest, TooManyErrorsCloses) {
  ServerSettings settings;
  settings.max_errors = 3;
  Server s(settings);
  EXPECT_EQ(s.codes("a\r\nb\r\nc\r\nd\r\n"), (Codes{500, 500, 500, 421}));
  EXPECT_TRUE(s.session().wants_close());
}

// RFC 5321 4.1.4: a second EHLO resets the transaction.
TEST(ServerSessionTest, EhloResetsTransaction) {
  Server s;
  s.send("EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n");
  EXPECT_EQ(s.codes("EHLO c.example\r\nDATA\r\n"), (Codes{250, 503}));
}

TEST(ServerSessionTest, TimeoutSends421) {
  Server s;
  s.session().timed_out();
  auto r = parse_replies(s.session().take_output());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].code, 421);
  EXPECT_TRUE(s.session().wants_close());
}


// What the observer is told about the message text says how it came: with
// DATA (dot-stuffed, ended by ".", RFC 5321 4.5.2) or with BDAT (RFC 3030).
TEST(ServerSessionObserverTest, MessageEventSaysDataOrBdat) {
  struct Seen : SessionObserver {
    std::vector<bool> stuffed;
    void on_event(const SessionEvent& e) override {
      if (e.kind == SessionEventKind::kMessageReceived) stuffed.push_back(e.dot_stuffed);
    }
  } seen;
  testing::RecordingPolicy policy;
  ServerSession s(policy, ServerSettings{}, "192.0.2.7:4000", &seen);
  s.start();
  s.receive("EHLO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  s.receive("Subject: x\r\n\r\n..dot\r\n.\r\n");
  s.receive("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 5 LAST\r\nhello");
  ASSERT_EQ(policy.stored.size(), 2u);
  EXPECT_EQ(seen.stuffed, (std::vector<bool>{true, false}));
}

// Each reply event says what it answers (reply_answers.hpp), so that the
// trace can explain a 250 by its command: the greeting (RFC 5321 3.1), each
// command by its verb, DATA's final dot, BDAT's last chunk (RFC 3030 2), and
// a timeout's 421 said unasked (RFC 5321 3.8).
TEST(ServerSessionObserverTest, ReplyEventsSayWhatTheyAnswer) {
  struct Seen : SessionObserver {
    std::vector<std::pair<int, std::string>> replies;
    void on_event(const SessionEvent& e) override {
      if (e.kind == SessionEventKind::kReplySent) replies.emplace_back(e.code, std::string(e.answers));
    }
  } seen;
  testing::RecordingPolicy policy;
  ServerSession s(policy, ServerSettings{}, "192.0.2.7:4000", &seen);
  s.start();
  s.receive("HELO c.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n");
  s.receive("Subject: x\r\n\r\nhi\r\n.\r\n");
  s.receive("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nBDAT 2\r\nhiBDAT 3 LAST\r\nyou");
  s.receive("RSET\r\nBOGUS\r\n");
  s.timed_out();
  using P = std::pair<int, std::string>;
  EXPECT_EQ(seen.replies, (std::vector<P>{{220, "greeting"}, {250, "HELO"}, {250, "MAIL"}, {250, "RCPT"},
                                          {354, "DATA"}, {250, "end_of_data"}, {250, "MAIL"}, {250, "RCPT"},
                                          {250, "BDAT"}, {250, "bdat_last"}, {250, "RSET"}, {500, "UNKNOWN"},
                                          {421, "nothing"}}));
}

}  // namespace
}  // namespace smtplab::smtp

namespace smtplab::smtp {
namespace {

// TCP may cut a client's bytes anywhere (RFC 5321 2.3.8 leaves framing to
// CRLF alone): a whole pipelined transaction split at every offset into two
// reads gets the same replies and stores the same message as in one read.
// The first read is parsed in place, its tail kept and joined with the next.
// A fresh session given `client` in two reads, cut at `cut`: everything it
// answered, and the messages it stored.
std::pair<std::string, std::vector<std::string>> run_split(std::string_view client, std::size_t cut) {
  RecordingPolicy policy;
  ServerSession session(policy, {}, "192.0.2.7:4000");
  session.start();
  std::string out = session.take_output();
  session.receive(client.substr(0, cut));
  out += session.take_output();
  session.receive(client.substr(cut));
  out += session.take_output();
  std::vector<std::string> messages;
  for (const auto& m : policy.stored) messages.push_back(m.message);
  return {out, messages};
}

TEST(ServerSessionTest, SplitAtAnyOffsetAnswersTheSame) {
  const std::string client =
      "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n"
      "Subject: split\r\n\r\n..a line with a dot\r\nbody\r\n.\r\n"
      "MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.net>\r\nBDAT 5 LAST\r\nhello"
      "QUIT\r\n";
  auto run = [&](std::size_t cut) { return run_split(client, cut); };
  const auto whole = run(client.size());
  ASSERT_EQ(whole.second.size(), 2u);
  EXPECT_EQ(whole.second[0], "Subject: split\r\n\r\n.a line with a dot\r\nbody\r\n");
  EXPECT_EQ(whole.second[1], "hello");
  for (std::size_t cut = 0; cut < client.size(); ++cut) {
    ASSERT_EQ(run(cut), whole) << "split at " << cut;
  }
}

// RFC 5321 2.3.8: a bare LF never splits a command line, wherever the
// client's bytes are cut: "NOOP<LF>RCPT TO:<x><CRLF>" is refused once and
// the RCPT never runs, in one write or in two.
TEST(ServerSessionTest, BareLfNeverSplitsACommandAtAnyOffset) {
  const std::string client =
      "EHLO client.example\r\nMAIL FROM:<a@example.org>\r\nNOOP\nRCPT TO:<smuggled@y.example>\r\n"
      "RCPT TO:<b@example.net>\r\nQUIT\r\n";
  auto run = [&](std::size_t cut) { return run_split(client, cut).first; };
  const std::string whole = run(client.size());
  EXPECT_EQ(whole.find("smuggled"), std::string::npos) << whole;
  EXPECT_NE(whole.find("500 5.5.2 Bare CR or LF"), std::string::npos) << whole;
  EXPECT_NE(whole.find("250 2.1.5 Recipient <b@example.net> OK"), std::string::npos) << whole;
  for (std::size_t cut = 0; cut < client.size(); ++cut) {
    ASSERT_EQ(run(cut), whole) << "split at " << cut;
  }
}

}  // namespace
}  // namespace smtplab::smtp
