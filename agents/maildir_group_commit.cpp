#include "agents/maildir_group_commit.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace smtplab::agents {

MaildirGroupCommit::MaildirGroupCommit(const MaildirStore& store) : store_(store), thread_([this] { run(); }) {}

void MaildirGroupCommit::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void MaildirGroupCommit::commit(std::unique_ptr<MaildirStore::Delivery> delivery, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(delivery), std::move(done)});
  }
  wake_.notify_one();
}

void MaildirGroupCommit::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing is left to commit
    // Everything that arrived during the last sync is one group.
    std::vector<Job> group;
    group.swap(queue_);
    lock.unlock();
    commit_group(group);
    group.clear();  // the callbacks' captures go outside the lock
    lock.lock();
  }
}

void MaildirGroupCommit::commit_group(std::vector<Job>& group) {
  const bool durable = store_.options().fsync;
  std::vector<absl::Status> written(group.size());
  int sync_fd = -1;
  std::size_t to_sync = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    written[i] = group[i].delivery->write_all_text();
    if (written[i].ok()) {
      sync_fd = group[i].delivery->fd();
      ++to_sync;
    }
  }
  if (durable && to_sync > 0) {
    // One message: its own fsync, which waits for nothing else. More: one
    // syncfs, which writes every dirty file of the file system (theirs, and
    // anything else waiting) and commits its journal once.
    const int rc = to_sync == 1 ? ::fsync(sync_fd) : ::syncfs(sync_fd);
    if (rc != 0) {
      const absl::Status failed = absl::InternalError(
          absl::StrCat(to_sync == 1 ? "cannot fsync" : "cannot syncfs", " ", store_.options().root, "/tmp: ",
                       std::strerror(errno)));
      for (absl::Status& s : written) {
        if (s.ok()) s = failed;
      }
    }
  }
  std::vector<absl::StatusOr<std::string>> outcome;
  outcome.reserve(group.size());
  bool any_published = false;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!written[i].ok()) {
      group[i].delivery->abandon(written[i]);
      outcome.emplace_back(written[i]);
    } else {
      outcome.push_back(group[i].delivery->publish());
      any_published = any_published || outcome.back().ok();
    }
    group[i].delivery.reset();  // closes and, if not published, removes the tmp/ file
  }
  if (durable && any_published) {
    // The renames are durable once new/ is: one fsync for all of them.
    if (absl::Status s = store_.sync_new_directory(); !s.ok()) {
      for (auto& o : outcome) {
        if (o.ok()) o = s;  // in new/, but not known durable: the client is told to retry
      }
    }
  }
  groups_.fetch_add(1);
  messages_.fetch_add(group.size());
  for (std::size_t i = 0; i < group.size(); ++i) group[i].done(std::move(outcome[i]));
}

}  // namespace smtplab::agents
