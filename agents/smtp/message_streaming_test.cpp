// A policy that takes message text as it arrives (ServerPolicy::open_message)
// gets it part by part, each part no larger than the read that carried it,
// so the engine never holds a whole message; the engine's checks still
// decide the reply, and a refused message is thrown away, never committed.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "agents/smtp/reply.hpp"
#include "agents/smtp/server_session.hpp"
#include "agents/smtp/testing/streaming_policy.hpp"

namespace smtplab::smtp {
namespace {

using testing::StreamingPolicy;

class StreamingServer {
 public:
  explicit StreamingServer(ServerSettings settings = {}) : session(policy, settings, "192.0.2.7:4000") {
    session.start();
    session.take_output();
  }
  // Feeds `bytes` in reads of at most `read_size` octets; the reply codes.
  std::vector<int> send(std::string_view bytes, std::size_t read_size = 16 * 1024) {
    for (std::size_t at = 0; at < bytes.size(); at += read_size) session.receive(bytes.substr(at, read_size));
    ReplyParser parser;
    parser.feed(session.take_output());
    std::vector<int> codes;
    while (auto r = parser.next()) codes.push_back(r->ok() ? (*r)->code : -1);
    return codes;
  }
  StreamingPolicy policy;
  ServerSession session;
};

std::string big_text(std::size_t lines) {
  std::string text;
  for (std::size_t i = 0; i < lines; ++i) text += "line " + std::to_string(i) + " of the message text\r\n";
  return text;
}

const char kEnvelope[] = "EHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n";

// RFC 5321 4.1.1.4: the text up to CRLF.CRLF, unstuffed (4.5.2), reaches the
// writer in order and whole; no part is larger than one read (and the line
// end it held back), and the policy's commit() is the reply to the final dot.
TEST(MessageStreamingTest, DataTextArrivesPartByPart) {
  StreamingServer s;
  const std::string text = big_text(40000) + "..a stuffed line\r\n";  // about 1.3 MB
  EXPECT_EQ(s.send(kEnvelope), (std::vector<int>{250, 250, 250}));
  EXPECT_EQ(s.send("DATA\r\n"), std::vector<int>{354});
  const std::size_t read_size = 16 * 1024;
  EXPECT_EQ(s.send(text + ".\r\n", read_size), std::vector<int>{250});
  ASSERT_EQ(s.policy.messages.size(), 1u);
  const auto& m = s.policy.messages[0];
  EXPECT_TRUE(m.committed);
  EXPECT_EQ(s.policy.whole_messages, 0);
  EXPECT_EQ(m.text(), big_text(40000) + ".a stuffed line\r\n");
  EXPECT_GT(m.parts.size(), 50u);
  // A read may end inside a line end (a CR held back until its LF comes).
  for (const auto& part : m.parts) EXPECT_LE(part.size(), read_size + 2);
}

// RFC 3030 2: BDAT chunks go to the writer as they are read, across chunks.
TEST(MessageStreamingTest, BdatChunksArrivePartByPart) {
  StreamingServer s;
  s.send(kEnvelope);
  const std::string chunk(100000, 'x');
  EXPECT_EQ(s.send("BDAT 100000\r\n" + chunk, 4096), std::vector<int>{250});
  EXPECT_EQ(s.send("BDAT 3 LAST\r\nend", 4096), std::vector<int>{250});
  ASSERT_EQ(s.policy.messages.size(), 1u);
  EXPECT_TRUE(s.policy.messages[0].committed);
  EXPECT_EQ(s.policy.messages[0].text(), chunk + "end");
  for (const auto& part : s.policy.messages[0].parts) EXPECT_LE(part.size(), 4096u);
}

// RFC 1870: past the limit the text is no longer passed on (the writer holds
// at most max_message_octets), and the message is refused with 552, never
// committed.
TEST(MessageStreamingTest, OversizedMessageIsRefusedAndDiscarded) {
  ServerSettings settings;
  settings.max_message_octets = 100000;
  StreamingServer s(settings);
  s.send(kEnvelope);
  s.send("DATA\r\n");
  EXPECT_EQ(s.send(big_text(10000) + ".\r\n"), std::vector<int>{552});
  ASSERT_EQ(s.policy.messages.size(), 1u);
  EXPECT_FALSE(s.policy.messages[0].committed);
  EXPECT_TRUE(s.policy.messages[0].discarded);
  EXPECT_LE(s.policy.messages[0].text().size(), 100000u);
}

// RFC 5321 2.3.8 and RFC 5322 2.3: a bare LF, or a NUL in text, is found
// even when the text was passed on before the end: 554, never committed.
TEST(MessageStreamingTest, TextBrokenAfterItWasPassedOnIsStillRefused) {
  for (const std::string& bad : {std::string("a bare\nLF\r\n"), std::string("a NUL \0 here\r\n", 15)}) {
    StreamingServer s;
    s.send(kEnvelope);
    s.send("DATA\r\n");
    EXPECT_EQ(s.send(big_text(5000) + bad + big_text(5000) + ".\r\n"), std::vector<int>{554});
    ASSERT_EQ(s.policy.messages.size(), 1u);
    EXPECT_TRUE(s.policy.messages[0].discarded);
    EXPECT_FALSE(s.policy.messages[0].committed);
  }
}

// A connection that ends in the middle of the text leaves nothing
// committed: the session's end throws the writer's text away.
TEST(MessageStreamingTest, TextCutOffIsDiscarded) {
  StreamingPolicy policy;
  {
    ServerSession session(policy, {}, "192.0.2.7:4000");
    session.start();
    session.receive(kEnvelope);
    session.receive("DATA\r\nSubject: cut\r\n\r\nhalf a mess");
  }
  ASSERT_EQ(policy.messages.size(), 1u);
  EXPECT_TRUE(policy.messages[0].discarded);
}

}  // namespace
}  // namespace smtplab::smtp
