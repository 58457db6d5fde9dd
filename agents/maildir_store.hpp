// Delivery into a Maildir (the format of qmail, Dovecot and Postfix's
// "home_mailbox = Maildir/"): write into tmp/, fsync, rename into new/, fsync
// the directory. Once deliver() returns OK the message survives a crash,
// which is what lets an SMTP server say 250 (RFC 5321 6.1).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtplab::agents {

struct MaildirOptions {
  std::string root;              // the Maildir; tmp/, new/ and cur/ are created
  bool fsync = true;             // false only for benchmarks: acknowledged mail may be lost
  // The last part of each file name. '/' and ':' cannot appear there (a
  // path separator, and Maildir's info separator): they are written \057
  // and \072, as the Maildir convention does.
  std::string hostname = "localhost";
};

class MaildirStore {
 public:
  // One message on its way into new/, written as its text arrives so that a
  // large message is never held whole in memory. Text stays in memory until
  // kBufferOctets are waiting (so a small message still costs one write, as
  // deliver_as does); past that the tmp/ file is opened and written as the
  // text comes. Destroyed without commit(), it removes its tmp/ file.
  class Delivery {
   public:
    static constexpr std::size_t kBufferOctets = 64 * 1024;

    Delivery(Delivery&&) = delete;
    ~Delivery();
    // A write error is kept and returned by commit().
    void write(std::string_view text);
    // fsync, rename into new/, fsync new/ (each per the store's options);
    // the file name. Once only.
    absl::StatusOr<std::string> commit();

    // commit() in the steps a group commit (MaildirGroupCommit) takes for
    // many messages at once, with one sync between them for all:
    // the whole text into tmp/ (the file stays open)...
    absl::Status write_all_text();
    // ...whose file descriptor a sync of its file system can be given...
    int fd() const { return fd_; }
    // ...and, once the text is durable, close and rename into new/, without
    // a sync of new/ (the caller syncs the directory once for the group).
    // The file name. A failure removes the tmp/ file.
    absl::StatusOr<std::string> publish();
    // The text could not be made durable: nothing goes into new/.
    void abandon(absl::Status why);

   private:
    friend class MaildirStore;
    Delivery(const MaildirStore& store, std::string name);
    absl::Status write_out(std::string_view a, std::string_view b);

    const MaildirStore& store_;
    std::string name_;
    std::string tmp_path_;
    std::string buffer_;
    int fd_ = -1;
    absl::Status status_;
    bool committed_ = false;
  };

  // Starts a message named `unique` (from next_unique()) and the host.
  std::unique_ptr<Delivery> begin(const std::string& unique) const;

  static absl::StatusOr<std::unique_ptr<MaildirStore>> open(MaildirOptions options);

  // The unique part of the next file name, "<seconds>.M<microseconds>P<pid>Q<n>":
  // unique across the processes of this host, as Maildir requires, so it
  // also serves as a queue id no other sink (or restart) hands out again.
  // Thread-safe.
  std::string next_unique();

  // Writes `prefix` then `message` as one file in new/ named `unique` (from
  // next_unique()) and the host; returns its file name.
  absl::StatusOr<std::string> deliver_as(const std::string& unique, std::string_view prefix,
                                         std::string_view message);
  // The same under a fresh next_unique().
  absl::StatusOr<std::string> deliver(std::string_view prefix, std::string_view message) {
    return deliver_as(next_unique(), prefix, message);
  }

  const MaildirOptions& options() const { return options_; }
  // fsync of new/, which makes the renames into it durable.
  absl::Status sync_new_directory() const;

 private:
  explicit MaildirStore(MaildirOptions options);
  MaildirOptions options_;
  std::string host_part_;  // options_.hostname, made safe for a file name
  std::atomic<unsigned long long> counter_{0};
};

}  // namespace smtplab::agents
