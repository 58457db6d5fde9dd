// The mailbox server's policy: each recipient's copy stands alone over LMTP
// (RFC 2033 4.2), and over SMTP one reply answers for all of them.
#include "agents/mda/mda.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/inprocess/sim_network.hpp"
#include "sim/scheduler.hpp"

namespace smtplab::agents {
namespace {

namespace fs = std::filesystem;

class MdaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("smtplab-mda-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  Mda mda(MdaSettings settings) {
    return Mda(HostContext{"mail.example.net", "192.0.2.16", scheduler_, network_, nullptr, &trace_, nullptr},
               std::move(settings));
  }
  static smtp::Envelope envelope_to(std::vector<std::string> locals, std::size_t size = 0) {
    smtp::Envelope e;
    e.reverse_path = smtp::parse_path("<alice@example.org>").value();
    if (size != 0) e.mail_params.size = size;
    for (const auto& l : locals) e.recipients.push_back({smtp::parse_path("<" + l + "@example.net>").value(), {}});
    return e;
  }
  static smtp::SessionState lmtp_state() {
    smtp::SessionState s;
    s.peer_address = "192.0.2.17:40000";
    s.helo_domain = "mx.example.net";
    s.esmtp = true;
    s.lmtp = true;
    return s;
  }
  static std::size_t files_in(const fs::path& dir) {
    if (!fs::exists(dir)) return 0;
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }

  sim::Scheduler scheduler_;
  sim::Trace trace_{scheduler_};
  sim::SimNetwork network_{scheduler_};
  fs::path root_;
};

constexpr char kMessage[] = "Subject: hi\r\n\r\nHello.\r\n";

// Carol's Maildir cannot be made (a file is in its place): over LMTP she
// alone gets 451 4.3.0, and Bob's copy is on disk with its 250. (Over SMTP
// the whole message would be refused and Bob would get it twice on retry.)
TEST_F(MdaTest, OverLmtpAMailboxThatFailsRefusesOnlyItsRecipient) {
  std::ofstream(root_ / "carol") << "not a directory";
  Mda m = mda({.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {}}}, .maildir_root = root_.string()});
  const auto replies = m.on_message_each(lmtp_state(), envelope_to({"bob", "carol"}), kMessage);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].code, 250);
  EXPECT_EQ(replies[0].text(), "<bob@example.net> Ok: delivered as D00001");
  EXPECT_EQ(replies[1].code, 451);
  EXPECT_EQ(replies[1].enhanced, "4.3.0");
  EXPECT_EQ(files_in(root_ / "bob" / "new"), 1u);
  EXPECT_EQ(m.mailbox("bob").size(), 1u);
  EXPECT_EQ(m.mailbox("carol").size(), 0u);
}

// RFC 5321 4.4 and RFC 2033 4.2: every recipient's mailbox holds the whole
// text with its trace headers, the last one filed as much as the first
// (over SMTP and over LMTP alike).
TEST_F(MdaTest, EveryRecipientGetsTheWholeText) {
  Mda m = mda({.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {}}, {"dave", {}}}});
  smtp::SessionState smtp_state = lmtp_state();
  smtp_state.lmtp = false;
  EXPECT_EQ(m.on_message(smtp_state, envelope_to({"bob", "carol"}), kMessage).code, 250);
  const auto replies = m.on_message_each(lmtp_state(), envelope_to({"carol", "dave"}), kMessage);
  ASSERT_EQ(replies.size(), 2u);
  for (const char* user : {"bob", "carol", "dave"}) {
    for (const StoredMessage& stored : m.mailbox(user)) {
      EXPECT_TRUE(stored.content.starts_with("Return-Path: <alice@example.org>\r\nReceived: ")) << user;
      EXPECT_TRUE(stored.content.ends_with(kMessage)) << user;
    }
  }
  EXPECT_EQ(m.mailbox("bob").size(), 1u);
  EXPECT_EQ(m.mailbox("carol").size(), 2u);
  EXPECT_EQ(m.mailbox("dave").size(), 1u);
}

// RFC 3848: the Received header says the message came in over LMTP.
TEST_F(MdaTest, TheReceivedHeaderNamesLmtp) {
  Mda m = mda({.domains = {"example.net"}, .users = {{"bob", {}}}});
  const auto replies = m.on_message_each(lmtp_state(), envelope_to({"bob"}), kMessage);
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(m.mailbox("bob").size(), 1u);
  EXPECT_NE(m.mailbox("bob")[0].content.find("by mail.example.net (smtplab) with LMTP id D00001"), std::string::npos)
      << m.mailbox("bob")[0].content;
}

// A quota that only the text overruns (no SIZE= at RCPT): over LMTP the full
// mailbox's recipient gets 452 4.2.2 and the other recipient has the message.
TEST_F(MdaTest, OverLmtpAFullMailboxRefusesOnlyItsRecipient) {
  Mda m = mda({.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {.quota_octets = 10}}}});
  const auto replies = m.on_message_each(lmtp_state(), envelope_to({"bob", "carol"}), kMessage);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].code, 250);
  EXPECT_EQ(replies[1].code, 452);
  EXPECT_EQ(replies[1].enhanced, "4.2.2");
  EXPECT_EQ(m.mailbox("bob").size(), 1u);
  EXPECT_EQ(m.mailbox("carol").size(), 0u);
}

// Over SMTP one reply answers for all: every quota is checked before any
// copy is filed, so a refusal leaves no copy behind to be duplicated.
TEST_F(MdaTest, OverSmtpAFullMailboxRefusesTheWholeMessageBeforeFilingAny) {
  Mda m = mda({.domains = {"example.net"}, .users = {{"bob", {}}, {"carol", {.quota_octets = 10}}}});
  smtp::SessionState smtp_state = lmtp_state();
  smtp_state.lmtp = false;
  const smtp::Reply reply = m.on_message(smtp_state, envelope_to({"bob", "carol"}), kMessage);
  EXPECT_EQ(reply.code, 452);
  EXPECT_EQ(m.mailbox("bob").size(), 0u);
  EXPECT_EQ(m.mailbox("carol").size(), 0u);
}

}  // namespace
}  // namespace smtplab::agents
