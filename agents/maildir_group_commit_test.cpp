// The group commit makes every message handed over durable before saying so,
// with one sync for all those waiting together, and keeps one message's
// failure from touching the others.
#include "agents/maildir_group_commit.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

namespace smtplab::agents {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class MaildirGroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("smtplab_group_commit_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    store_ = MaildirStore::open({.root = root_.string(), .fsync = true, .hostname = "h"}).value();
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<MaildirStore::Delivery> delivery(const std::string& unique, const std::string& text) {
    auto d = store_->begin(unique);
    d->write(text);
    return d;
  }
  // Records each outcome under its message's text.
  MaildirGroupCommit::Done record(std::string text) {
    return [this, text](absl::StatusOr<std::string> outcome) {
      std::lock_guard lock(mutex_);
      outcomes_.emplace_back(text, std::move(outcome));
    };
  }
  std::size_t files_in(const char* dir) const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(root_ / dir), fs::directory_iterator()));
  }

  // An answer that holds the commit thread: `answered` is set once it runs
  // (its group is committed), and it returns once `release` is.
  struct Hold {
    std::promise<void> answered;
    std::promise<void> release;
    MaildirGroupCommit::Done done() {
      return [this, released = release.get_future().share()](absl::StatusOr<std::string>) {
        answered.set_value();
        released.wait();
      };
    }
  };

  fs::path root_;
  std::unique_ptr<MaildirStore> store_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, absl::StatusOr<std::string>>> outcomes_;
};

// RFC 5321 6.1: each message is in new/ with its exact bytes when it is
// answered. The 30 handed over while the commit thread is busy with the
// first (its answer holds the thread until they are all queued) are one
// group, with one sync.
TEST_F(MaildirGroupCommitTest, MessagesWaitingTogetherShareOneSync) {
  Hold hold;
  std::uint64_t groups = 0;
  {
    MaildirGroupCommit group(*store_);
    group.commit(delivery(store_->next_unique(), "first\r\n"), hold.done());
    hold.answered.get_future().wait();
    for (int i = 0; i < 30; ++i) {
      const std::string text = "message " + std::to_string(i) + "\r\n";
      group.commit(delivery(store_->next_unique(), text), record(text));
    }
    hold.release.set_value();
    while (group.messages() < 31) std::this_thread::yield();
    groups = group.groups();
  }  // the destructor waits for every answer
  EXPECT_EQ(groups, 2u);  // the first message, then the 30 behind it: two syncs, not 31
  ASSERT_EQ(outcomes_.size(), 30u);
  for (const auto& [text, outcome] : outcomes_) {
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_EQ(read_file(root_ / "new" / *outcome), text);
  }
  EXPECT_EQ(files_in("new"), 31u);
  EXPECT_EQ(files_in("tmp"), 0u);
}

// A message that cannot be written (its tmp/ name is taken, so O_EXCL
// fails) gets its error; the others in its group are stored all the same,
// and the file that was in the way is left alone.
TEST_F(MaildirGroupCommitTest, OneFailureFailsOnlyItsMessage) {
  const int fd = ::open((root_ / "tmp" / "taken.h").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::close(fd), 0);
  Hold hold;
  {
    MaildirGroupCommit group(*store_);
    group.commit(delivery(store_->next_unique(), "x"), hold.done());
    hold.answered.get_future().wait();
    group.commit(delivery(store_->next_unique(), "before\r\n"), record("before\r\n"));
    group.commit(delivery("taken", "lost\r\n"), record("lost\r\n"));
    group.commit(delivery(store_->next_unique(), "after\r\n"), record("after\r\n"));
    hold.release.set_value();
  }
  ASSERT_EQ(outcomes_.size(), 3u);
  EXPECT_TRUE(outcomes_[0].second.ok());
  EXPECT_FALSE(outcomes_[1].second.ok());
  EXPECT_TRUE(outcomes_[2].second.ok());
  EXPECT_EQ(files_in("new"), 3u);  // "x", "before", "after"
  EXPECT_TRUE(fs::exists(root_ / "tmp" / "taken.h"));
  EXPECT_EQ(read_file(root_ / "tmp" / "taken.h"), "");
}

// Stopping commits what was handed over: no message given to the group is
// left in tmp/ or unanswered.
TEST_F(MaildirGroupCommitTest, StoppingCommitsWhatWasHandedOver) {
  {
    MaildirGroupCommit group(*store_);
    for (int i = 0; i < 5; ++i) group.commit(delivery(store_->next_unique(), "m"), record("m"));
  }
  EXPECT_EQ(outcomes_.size(), 5u);
  EXPECT_EQ(files_in("new"), 5u);
  EXPECT_EQ(files_in("tmp"), 0u);
}

}  // namespace
}  // namespace smtplab::agents
