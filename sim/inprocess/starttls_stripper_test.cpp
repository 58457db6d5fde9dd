// The downgrade attacker rewrites only the STARTTLS keyword of an EHLO reply,
// keeps the length, reads plaintext, and is blind once TLS records flow.
#include "sim/inprocess/starttls_stripper.hpp"

#include <gtest/gtest.h>

#include "sim/scheduler.hpp"

namespace smtplab::sim {
namespace {

class StartTlsStripperTest : public ::testing::Test {
 protected:
  std::vector<EventKind> kinds() const {
    std::vector<EventKind> out;
    for (const auto& e : trace_.events()) out.push_back(e.kind);
    return out;
  }
  Scheduler scheduler_;
  Trace trace_{scheduler_};
  StartTlsStripper attacker_{&trace_};
};

// RFC 3207 6 names this attack: STARTTLS removed from the server's response.
TEST_F(StartTlsStripperTest, RewritesTheKeywordKeepingTheLength) {
  const std::string reply = "250-mx.example.net\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 HELP\r\n";
  const std::string out = attacker_.on_bytes(1, "mx.example.net", "mx.example.org", reply);
  EXPECT_EQ(out, "250-mx.example.net\r\n250-PIPELINING\r\n250-XXXXXXXA\r\n250 HELP\r\n");
  EXPECT_EQ(out.size(), reply.size());
  EXPECT_EQ(kinds(), std::vector<EventKind>{EventKind::kAttackStrip});
}

TEST_F(StartTlsStripperTest, FindsTheKeywordInAnyCaseAndLastPosition) {
  EXPECT_EQ(attacker_.on_bytes(1, "s", "c", "250-mx\r\n250 starttls\r\n"), "250-mx\r\n250 XXXXXXXA\r\n");
}

// A client command that merely mentions STARTTLS is read, not rewritten.
TEST_F(StartTlsStripperTest, LeavesTheClientsStartTlsCommandAlone) {
  EXPECT_EQ(attacker_.on_bytes(1, "c", "s", "STARTTLS\r\n"), "STARTTLS\r\n");
  ASSERT_EQ(trace_.events().size(), 1u);
  EXPECT_EQ(trace_.events()[0].kind, EventKind::kAttackRead);
  EXPECT_NE(trace_.events()[0].text.find("STARTTLS"), std::string::npos);
}

TEST_F(StartTlsStripperTest, ReadsPlaintextThenGoesBlindOnTlsRecords) {
  attacker_.on_bytes(7, "c", "s", "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\n");
  const std::string client_hello("\x16\x03\x01\x00\x05hello", 10);
  EXPECT_EQ(attacker_.on_bytes(7, "c", "s", client_hello), client_hello);
  attacker_.on_bytes(7, "s", "c", "250-STARTTLS\r\n");  // inside TLS this could not be plaintext; untouched
  EXPECT_EQ(kinds(), (std::vector<EventKind>{EventKind::kAttackRead, EventKind::kAttackBlind}));
  EXPECT_NE(trace_.events()[0].text.find("MAIL FROM:<alice@example.org> (+1 more lines)"), std::string::npos);
}

}  // namespace
}  // namespace smtplab::sim
