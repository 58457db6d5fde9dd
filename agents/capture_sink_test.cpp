#include "agents/capture_sink.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/wait.h>
#include <unistd.h>

namespace smtplab::agents {
namespace {

namespace fs = std::filesystem;

smtp::Envelope envelope_for(std::vector<std::string> to) {
  smtp::Envelope e;
  e.reverse_path = smtp::parse_path("<alice@a.example>").value();
  for (const auto& t : to) e.recipients.push_back({smtp::parse_path("<" + t + ">").value(), {}});
  return e;
}

class CaptureSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("smtplab_sink_" + std::to_string(::getpid()));
    fs::remove_all(root_);
    store_ = MaildirStore::open({.root = root_.string(), .fsync = false}).value();
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::unique_ptr<MaildirStore> store_;
};

// RFC 5321 4.4: Return-Path, then a Received line naming the client, us, the
// protocol (RFC 3848) and the date.
TEST_F(CaptureSinkTest, TraceHeaders) {
  CaptureSink sink(*store_, {.hostname = "sink.example"}, [] { return absl::FromUnixSeconds(1700000000); });
  smtp::SessionState state;
  state.peer_address = "127.0.0.1:4000";
  state.helo_domain = "client.example";
  state.esmtp = true;
  state.authenticated_user = "alice";
  EXPECT_EQ(sink.trace_headers(state, envelope_for({"bob@b.example"}), "ID1"),
            "Return-Path: <alice@a.example>\r\n"
            "Received: from client.example ([127.0.0.1])\r\n"
            "\tby sink.example (smtplab) with ESMTPA id ID1\r\n"
            "\tfor <bob@b.example>; Tue, 14 Nov 2023 22:13:20 +0000\r\n");
  state.esmtp = false;
  state.authenticated_user.clear();
  state.peer_address = "[::1]:4000";
  const std::string two = sink.trace_headers(state, envelope_for({"b@b.example", "c@c.example"}), "ID2");
  EXPECT_NE(two.find("with SMTP id ID2; "), std::string::npos) << two;
  EXPECT_NE(two.find("([IPv6:::1])"), std::string::npos) << two;
}

TEST_F(CaptureSinkTest, StoresAndAnswers250) {
  CaptureSink sink(*store_, {});
  smtp::SessionState state;
  state.peer_address = "127.0.0.1:1";
  auto reply = sink.on_message(state, envelope_for({"b@b.example"}), "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(reply.code, 250);
  EXPECT_EQ(sink.delivered(), 1u);
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "new"), fs::directory_iterator()), 1);
  // The queue id names the stored file (its Maildir unique part) and is in
  // its Received header.
  const std::string text = reply.text();
  const std::string id = text.substr(text.rfind(' ') + 1);
  const fs::path file = fs::directory_iterator(root_ / "new")->path();
  EXPECT_EQ(file.filename().string().rfind(id + ".", 0), 0u) << id << " vs " << file;
  std::ifstream in(file, std::ios::binary);
  const std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(stored.find(" id " + id), std::string::npos) << stored;
}

// Queue ids are unique across processes, not only within one: a second sink
// on the same Maildir (or a restart within the same second) never repeats
// one. Here a child process delivers and the parent compares.
TEST_F(CaptureSinkTest, QueueIdsDifferAcrossProcesses) {
  CaptureSink sink(*store_, {}, [] { return absl::FromUnixSeconds(1700000000); });
  smtp::SessionState state;
  state.peer_address = "127.0.0.1:1";
  const fs::path child_id = root_ / "child_id";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const smtp::Reply r = sink.on_message(state, envelope_for({"b@b.example"}), "x\r\n");
    std::ofstream(child_id) << r.text();
    ::_exit(r.code == 250 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const smtp::Reply mine = sink.on_message(state, envelope_for({"b@b.example"}), "x\r\n");
  std::ifstream in(child_id);
  const std::string theirs((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_EQ(mine.code, 250);
  EXPECT_NE(mine.text(), theirs);  // both are the first message of their process
  EXPECT_EQ(std::distance(fs::directory_iterator(root_ / "new"), fs::directory_iterator()), 2);
}

// Not stored means not accepted (RFC 5321 6.1): a failed write answers 451.
TEST_F(CaptureSinkTest, StoreFailureIs451) {
  CaptureSink sink(*store_, {});
  fs::remove_all(root_);
  smtp::SessionState state;
  auto reply = sink.on_message(state, envelope_for({"b@b.example"}), "x\r\n");
  EXPECT_EQ(reply.code, 451);
  EXPECT_EQ(sink.delivered(), 0u);
}

}  // namespace
}  // namespace smtplab::agents
