// Group commit for a Maildir, as a database commits its log: the messages
// whose final dot arrives while one sync runs are made durable together by
// the next, with one sync of the file system (syncfs(2); a lone message gets
// its own fsync) and one fsync of new/, instead of two fsyncs each. Every
// message is still answered only after the sync that covers its own file, so
// a 250 keeps its promise (RFC 5321 6.1); what it saves is the wait, which
// on a real disk is the whole cost of a small message.
//
// One thread does the syncs. Sessions hand over their message and go on
// serving other connections; each is told on the commit thread, and brings
// the answer back to its own strand.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/maildir_store.hpp"

namespace smtplab::agents {

class MaildirGroupCommit {
 public:
  // The file name in new/, or why the message is not stored.
  using Done = std::function<void(absl::StatusOr<std::string>)>;

  explicit MaildirGroupCommit(const MaildirStore& store);
  // Commits every message handed over, tells each, then stops the thread;
  // nothing may be handed over after. The destructor does it too.
  void stop();
  ~MaildirGroupCommit() { stop(); }
  MaildirGroupCommit(const MaildirGroupCommit&) = delete;
  MaildirGroupCommit& operator=(const MaildirGroupCommit&) = delete;

  // From any thread. `done` runs on the commit thread, after this returns.
  void commit(std::unique_ptr<MaildirStore::Delivery> delivery, Done done);

  // How many groups (each one sync of the files and one of new/) and
  // messages so far: their ratio is the average group (bench, tests).
  std::uint64_t groups() const { return groups_.load(); }
  std::uint64_t messages() const { return messages_.load(); }

 private:
  struct Job {
    std::unique_ptr<MaildirStore::Delivery> delivery;
    Done done;
  };
  void run();
  void commit_group(std::vector<Job>& group);

  const MaildirStore& store_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Job> queue_;  // under mutex_
  bool stopping_ = false;   // under mutex_
  std::atomic<std::uint64_t> groups_{0};
  std::atomic<std::uint64_t> messages_{0};
  std::thread thread_;  // last: it starts once everything above is built
};

}  // namespace smtplab::agents
