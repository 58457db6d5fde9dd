// A message writer that commits in a group (MessageWriter::commits_later)
// answers the final dot later. Until it does, the session answers nothing
// and reads nothing more, so the replies to pipelined commands still come in
// order (RFC 2920 3.1) and a 250 still means "stored" (RFC 5321 6.1).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "agents/smtp/reply.hpp"
#include "agents/smtp/server_session.hpp"
#include "agents/smtp/testing/streaming_policy.hpp"

namespace smtplab::smtp {
namespace {

class GroupCommitServer {
 public:
  explicit GroupCommitServer(ServerSettings settings = {}) : session(policy, settings, "192.0.2.7:4000") {
    policy.group_commit = true;
    session.start();
    session.take_output();
  }
  // The reply codes now waiting.
  std::vector<int> codes() {
    ReplyParser parser;
    parser.feed(session.take_output());
    std::vector<int> out;
    while (auto r = parser.next()) out.push_back(r->ok() ? (*r)->code : -1);
    return out;
  }
  std::vector<int> send(std::string_view bytes) {
    session.receive(bytes);
    return codes();
  }
  // What the owner does: starts the commit, whose callback the policy keeps.
  void start_commit() {
    session.start_commit([this](Reply r) { answers.push_back(std::move(r)); });
  }
  // The commit thread answers the oldest waiting commit with `reply`.
  void answer_commit(Reply reply) {
    ASSERT_FALSE(policy.pending_commits.empty());
    policy.pending_commits.front()(std::move(reply));
    policy.pending_commits.erase(policy.pending_commits.begin());
  }
  testing::StreamingPolicy policy;
  ServerSession session;
  std::vector<Reply> answers;  // as the commit callbacks delivered them
};

const char kTransaction[] =
    "EHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n";

// RFC 2920 3.1 / RFC 5321 6.1: QUIT pipelined behind the final dot is
// answered only after the dot's 250, which waits for the group commit.
TEST(DeferredCommitTest, FinalDotWaitsAndPipelinedQuitFollows) {
  GroupCommitServer s;
  EXPECT_EQ(s.send(kTransaction), (std::vector<int>{250, 250, 250, 354}));
  EXPECT_EQ(s.send("Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"), std::vector<int>{});
  EXPECT_TRUE(s.session.awaiting_commit());
  EXPECT_FALSE(s.session.wants_close());
  s.start_commit();
  EXPECT_FALSE(s.session.awaiting_commit());  // started once only
  ASSERT_EQ(s.policy.pending_commits.size(), 1u);
  EXPECT_EQ(s.policy.messages[0].text(), "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(s.codes(), std::vector<int>{});  // started, not answered
  s.answer_commit(make_reply(250, "2.0.0", "Ok: queued as G1"));
  ASSERT_EQ(s.answers.size(), 1u);
  s.session.commit_finished(s.answers[0]);
  EXPECT_EQ(s.codes(), (std::vector<int>{250, 221}));
  EXPECT_TRUE(s.session.wants_close());
}

// A failed group commit is a 4xx for that message alone (RFC 5321 4.2.5):
// the session goes on, and the next transaction is answered as usual.
TEST(DeferredCommitTest, FailedCommitIsTemporaryAndTheSessionGoesOn) {
  GroupCommitServer s;
  s.send(kTransaction);
  s.send("x\r\n.\r\n");
  s.start_commit();
  s.answer_commit(make_reply(451, "4.3.0", "Error: cannot store message"));
  s.session.commit_finished(s.answers[0]);
  EXPECT_EQ(s.codes(), std::vector<int>{451});
  EXPECT_EQ(s.send("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\n"),
            (std::vector<int>{250, 250, 354}));
}

// RFC 5321 4.5.3.2.7: a timeout while the commit runs ends the session with
// 421; the commit's late answer is dropped. The text was handed over, so the
// message may be stored and sent again by the client: a duplicate, not a loss.
TEST(DeferredCommitTest, TimeoutWhileCommittingDropsTheLateAnswer) {
  GroupCommitServer s;
  s.send(kTransaction);
  s.send("x\r\n.\r\n");
  s.start_commit();
  s.session.timed_out();
  EXPECT_EQ(s.codes(), std::vector<int>{421});
  s.answer_commit(make_reply(250, "2.0.0", "Ok"));
  s.session.commit_finished(s.answers[0]);
  EXPECT_EQ(s.codes(), std::vector<int>{});
  EXPECT_TRUE(s.policy.messages[0].committed);
}

// RFC 2033 4.2: over LMTP the one commit answers each recipient in turn.
TEST(DeferredCommitTest, LmtpGetsOneReplyPerRecipient) {
  GroupCommitServer s(ServerSettings{.lmtp = true});
  EXPECT_EQ(s.send("LHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n"
                   "RCPT TO:<c@b.example>\r\nDATA\r\n"),
            (std::vector<int>{250, 250, 250, 250, 354}));
  EXPECT_EQ(s.send("x\r\n.\r\n"), std::vector<int>{});
  s.start_commit();
  s.answer_commit(make_reply(250, "2.1.5", "Ok"));
  s.session.commit_finished(s.answers[0]);
  EXPECT_EQ(s.codes(), (std::vector<int>{250, 250}));
}

// RFC 3030 2: the last BDAT chunk is the end of the message: its reply waits
// for the commit like the final dot's.
TEST(DeferredCommitTest, LastBdatChunkWaits) {
  GroupCommitServer s;
  EXPECT_EQ(s.send("EHLO c.example\r\nMAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n"),
            (std::vector<int>{250, 250, 250}));
  EXPECT_EQ(s.send("BDAT 4\r\nabcdBDAT 3 LAST\r\nefgNOOP\r\n"), std::vector<int>{250});
  EXPECT_TRUE(s.session.awaiting_commit());
  s.start_commit();
  s.answer_commit(make_reply(250, "2.0.0", "Ok"));
  s.session.commit_finished(s.answers[0]);
  EXPECT_EQ(s.codes(), (std::vector<int>{250, 250}));  // the chunk's, then NOOP's
  EXPECT_EQ(s.policy.messages[0].text(), "abcdefg");
}

// A message the engine refuses itself (RFC 5321 2.3.8: a bare LF) is
// answered at once and never reaches the group commit.
TEST(DeferredCommitTest, RefusedTextIsNotCommitted) {
  GroupCommitServer s;
  s.send(kTransaction);
  EXPECT_EQ(s.send("bare\nline\r\n.\r\n"), std::vector<int>{554});
  EXPECT_FALSE(s.session.awaiting_commit());
  EXPECT_TRUE(s.policy.pending_commits.empty());
  EXPECT_TRUE(s.policy.messages[0].discarded);
}

}  // namespace
}  // namespace smtplab::smtp
