// The ladder diagram on runs of library scenarios: rows in the order the
// lines crossed the wire, the hosts in the order the message met them,
// waits as gaps, TLS marked from the handshake on; and its text form.
#include "viz/model/ladder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "base/absl_string_view.hpp"
#include "viz/model/library_trace_for_tests.hpp"
#include "viz/model/ladder_text.hpp"

namespace smtplab::viz {
namespace {

using sim::EventKind;

std::vector<std::string> hosts_of(const Ladder& ladder) {
  std::vector<std::string> hosts;
  for (const auto& lane : ladder.lanes) hosts.push_back(lane.host + "/" + lane.agent);
  return hosts;
}

std::size_t row_with(const Ladder& ladder, LadderRowKind kind, std::string_view label_start, std::size_t from = 0) {
  for (std::size_t i = from; i < ladder.rows.size(); ++i) {
    if (ladder.rows[i].kind == kind && absl::StartsWith(ladder.rows[i].label, av(label_start))) return i;
  }
  ADD_FAILURE() << "no row starting " << label_start;
  return ladder.rows.size();
}

class GreylistingLadder : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = trace_of("greylisting.yaml");
    const auto messages = messages_in(events_);
    ASSERT_EQ(messages.size(), 1u);
    ladder_ = message_ladder(events_, messages[0]);
  }
  std::vector<sim::TraceEvent> events_;
  Ladder ladder_;
};

// The lanes are the hosts the message met, MUA to MDA, each named by its role.
TEST_F(GreylistingLadder, LanesFollowTheMessagesPath) {
  EXPECT_EQ(hosts_of(ladder_),
            (std::vector<std::string>{"laptop.example.org/mua", "submit.example.org/msa", "mx.example.org/mta",
                                      "mx.example.net/mta", "mail.example.net/mda"}));
}

// RFC 2920 section 3.1: MAIL, RCPT and DATA go out in one write; the ladder
// draws them together, then the three replies in order.
TEST_F(GreylistingLadder, APipelinedBatchComesBeforeItsReplies) {
  const std::size_t mail = row_with(ladder_, LadderRowKind::kCommand, "MAIL FROM:");
  ASSERT_LT(mail + 5, ladder_.rows.size());
  const auto& r = ladder_.rows;
  EXPECT_EQ(r[mail + 1].label, "RCPT TO:<bob@example.net>");
  EXPECT_EQ(r[mail + 2].label, "DATA");
  EXPECT_NE(r[mail].batch, 0);
  EXPECT_EQ(r[mail + 1].batch, r[mail].batch);
  EXPECT_EQ(r[mail + 2].batch, r[mail].batch);
  EXPECT_TRUE(absl::StartsWith(r[mail + 3].label, "250 2.1.0"));
  EXPECT_TRUE(absl::StartsWith(r[mail + 4].label, "250 2.1.5"));
  EXPECT_TRUE(absl::StartsWith(r[mail + 5].label, "354"));
  EXPECT_EQ(r[mail + 3].batch, 0);
  // Arrows point the right way: commands client -> server, replies back.
  EXPECT_EQ(r[mail].from, 0);
  EXPECT_EQ(r[mail].to, 1);
  EXPECT_EQ(r[mail + 3].from, 1);
  EXPECT_EQ(r[mail + 3].to, 0);
}

// RFC 5321 section 4.2.1: a multi-line reply is one reply; its lines after
// the first travel with it.
TEST_F(GreylistingLadder, AMultiLineReplyIsOneArrow) {
  const std::size_t ehlo_reply = row_with(ladder_, LadderRowKind::kReply, "250-submit.example.org greets");
  const auto& more = ladder_.rows[ehlo_reply].more;
  ASSERT_FALSE(more.empty());
  EXPECT_EQ(more.front(), "250-PIPELINING");
  EXPECT_EQ(more.back(), "250 HELP");
  // The row stands for every line's event: selecting "250 HELP" selects it.
  EXPECT_EQ(ladder_.rows[ehlo_reply].last_event, ladder_.rows[ehlo_reply].event + more.size());
  EXPECT_EQ(events_[ladder_.rows[ehlo_reply].last_event].text, "250 HELP");
  EXPECT_EQ(ladder_.rows[ehlo_reply + 1].kind, LadderRowKind::kCommand);
}

// The greylisting 451, the queue's wait and the 5 minutes with nothing on
// the wire before attempt 2 (RFC 5321 section 4.5.4.1: the sender retries).
TEST_F(GreylistingLadder, TheWaitIsAGapWithItsLength) {
  const std::size_t refusal = row_with(ladder_, LadderRowKind::kReply, "451 4.7.1");
  EXPECT_EQ(ladder_.rows[refusal].from, 3);  // mx.example.net answers
  EXPECT_EQ(ladder_.rows[refusal].to, 2);
  const std::size_t wait = row_with(ladder_, LadderRowKind::kNote, "Q000001 waits 5m", refusal);
  ASSERT_LT(wait + 2, ladder_.rows.size());
  const LadderRow& gap = ladder_.rows[wait + 1];
  EXPECT_EQ(gap.kind, LadderRowKind::kGap);
  EXPECT_EQ(gap.gap_us, 300'000'000);
  EXPECT_EQ(gap.label, "5m");
  EXPECT_TRUE(absl::StartsWith(ladder_.rows[wait + 2].label, "attempt 2"));
  // No other gap: everything else is milliseconds apart.
  EXPECT_EQ(std::count_if(ladder_.rows.begin(), ladder_.rows.end(),
                          [](const LadderRow& r) { return r.kind == LadderRowKind::kGap; }),
            1);
}

// Time flows down.
TEST_F(GreylistingLadder, RowsAreInTimeOrder) {
  for (std::size_t i = 1; i < ladder_.rows.size(); ++i) {
    EXPECT_LE(ladder_.rows[i - 1].time_us, ladder_.rows[i].time_us) << "row " << i;
  }
}

// RFC 3207 section 4.2: after the handshake the session starts over inside
// TLS; the lines before it were in the clear.
TEST(Ladder, LinesAfterTheHandshakeAreInsideTls) {
  const auto events = trace_of("tls-opportunistic.yaml");
  const auto messages = messages_in(events);
  ASSERT_FALSE(messages.empty());
  const Ladder ladder = message_ladder(events, messages[0]);
  const std::size_t starttls = row_with(ladder, LadderRowKind::kCommand, "STARTTLS");
  const std::size_t handshake = row_with(ladder, LadderRowKind::kTls, "TLS handshake: TLSv1.3", starttls);
  EXPECT_FALSE(ladder.rows[starttls].encrypted);
  EXPECT_FALSE(ladder.rows[starttls + 1].encrypted);  // 220 Ready to start TLS
  const std::size_t ehlo_again = row_with(ladder, LadderRowKind::kCommand, "EHLO", handshake);
  EXPECT_TRUE(ladder.rows[ehlo_again].encrypted);
  EXPECT_EQ(ladder.rows[ehlo_again].connection, ladder.rows[starttls].connection);
}

// A connect that times out is an arrow that never arrives, 30 s after the
// attempt; the next MX is tried (RFC 5321 section 5.1).
TEST(Ladder, AConnectThatTimesOutNeverArrives) {
  const auto events = trace_of("mx-fallback.yaml");
  const Ladder ladder = message_ladder(events, messages_in(events).at(0));
  const std::size_t failed = row_with(ladder, LadderRowKind::kConnectFailed, "connection to");
  ASSERT_GT(failed, 0u);
  EXPECT_EQ(ladder.rows[failed - 1].kind, LadderRowKind::kGap);
  EXPECT_EQ(ladder.lanes[static_cast<std::size_t>(ladder.rows[failed].to)].host, "mx1.example.net");
  const std::size_t next = row_with(ladder, LadderRowKind::kConnect, "TCP connect", failed);
  EXPECT_EQ(ladder.lanes[static_cast<std::size_t>(ladder.rows[next].to)].host, "mx2.example.net");
}

// The second message goes over the connections the first one opened: its
// ladder shows each from its reuse to the third message's, one transaction
// per hop and only its own (RFC 5321 section 3.3: a session may carry
// several transactions).
TEST(Ladder, AReusedConnectionIsShownFromTheReuse) {
  const auto events = trace_of("connection-reuse.yaml");
  const auto messages = messages_in(events);
  ASSERT_GE(messages.size(), 3u);
  const Ladder second = message_ladder(events, messages[1]);
  std::size_t mails = 0, connects = 0;
  for (const LadderRow& row : second.rows) {
    if (row.kind == LadderRowKind::kCommand && absl::StartsWith(row.label, "MAIL FROM:")) ++mails;
    if (row.kind == LadderRowKind::kConnect) ++connects;
    // The second message is submitted at 1 s, the third at 2 s.
    EXPECT_GE(row.time_us, 1'000'000) << row.label;
    EXPECT_LT(row.time_us, 2'000'000) << row.label;
  }
  EXPECT_EQ(mails, 4u);     // MUA -> MSA -> MTA -> MTA -> MDA
  // New connections only from the MUA and to the mailbox server (closed after
  // each delivery); the MTAs reuse theirs.
  EXPECT_EQ(connects, 2u);
  // A MAIL on a reused connection in that second belongs to the second message.
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].kind == EventKind::kSmtpCommand && events[i].time_us > 1'000'000 &&
        events[i].time_us < 2'000'000 && absl::StartsWith(events[i].text, "MAIL FROM:")) {
      EXPECT_EQ(message_of_event(events, i), messages[1]) << events[i].text;
    }
  }
}

// Two messages submitted at once open two connections to the MSA: each
// ladder has its own, not the other's too (attempts and connections to one
// peer are matched first come, first served).
TEST(Ladder, TwoMessagesAtOnceHaveOneConnectionEach) {
  const auto events = trace_of("nxdomain-vs-servfail.yaml");
  const LadderIndex index(events);
  ASSERT_GE(index.messages().size(), 2u);
  std::set<std::uint64_t> seen;
  for (const std::string& message : {index.messages()[0], index.messages()[1]}) {
    const Ladder ladder = index.message_ladder(message);
    std::size_t from_laptop = 0;
    for (const LadderRow& row : ladder.rows) {
      if (row.kind != LadderRowKind::kConnect) continue;
      if (ladder.lanes[static_cast<std::size_t>(row.from)].host != "laptop.example.org") continue;
      ++from_laptop;
      EXPECT_TRUE(seen.insert(row.connection).second) << message << " shares connection " << row.connection;
    }
    EXPECT_EQ(from_laptop, 1u) << message;
  }
}

// A conversation no message rode on (here one seen from the server's side
// only) still gets a ladder, its ends read from the server's lines.
TEST(Ladder, AConnectionWithoutAMessageHasItsOwnLadder) {
  std::vector<sim::TraceEvent> events(2);
  events[0].kind = EventKind::kSmtpReply;
  events[0].host = "mx.example.net";
  events[0].peer = "outside";
  events[0].connection = 7;
  events[0].text = "220 mx.example.net ESMTP";
  events[1] = events[0];
  events[1].kind = EventKind::kSmtpCommand;
  events[1].text = "EHLO client";
  events[1].time_us = 5;
  EXPECT_EQ(connections_without_message(events), std::vector<std::uint64_t>{7});
  const Ladder ladder = connection_ladder(events, 7);
  ASSERT_EQ(ladder.lanes.size(), 2u);
  EXPECT_EQ(ladder.lanes[0].host, "outside");
  EXPECT_EQ(ladder.lanes[0].agent, "");
  ASSERT_EQ(ladder.rows.size(), 2u);
  EXPECT_EQ(ladder.rows[0].from, 1);
  EXPECT_EQ(ladder.rows[1].from, 0);
  EXPECT_EQ(message_of_event(events, 1), std::nullopt);
}

// The text form: one line per row, the arrow between the right lanes with
// its head at the receiver, the batch bracketed, the gap dotted.
TEST_F(GreylistingLadder, TextDrawsArrowsBetweenTheirLanes) {
  const std::string text = ladder_text(ladder_);
  const std::vector<std::string> lines = absl::StrSplit(text, '\n');
  auto line_with = [&](std::string_view needle) {
    for (const auto& l : lines) {
      if (absl::StrContains(l, av(needle))) return l;
    }
    ADD_FAILURE() << "no line with " << needle;
    return std::string();
  };
  EXPECT_EQ(line_with("451 4.7.1").substr(0, 45), "              |    |    |<---|    |      451 ");
  EXPECT_EQ(line_with("MAIL FROM:<alice@example.org> SIZE=303").substr(0, 37),
            "00:00:00.070  |--->|    |    |    |  ");
  EXPECT_TRUE(absl::StrContains(line_with("SIZE=303"), ",- MAIL FROM"));
  EXPECT_TRUE(absl::StrContains(line_with("(one write: pipelined)"), "'- DATA"));
  EXPECT_EQ(line_with("5m pass"), "              :    :    :    :    :      ... 5m pass ...");
  EXPECT_EQ(line_with("filed into bob's mailbox").substr(0, 35), "              |    |    |    |    *");
  EXPECT_TRUE(absl::StrContains(text, "  E  mail.example.net    mail delivery agent (MDA)"));
}

}  // namespace
}  // namespace smtplab::viz
