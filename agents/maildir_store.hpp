// Delivery into a Maildir (the format of qmail, Dovecot and Postfix's
// "home_mailbox = Maildir/"): write into tmp/, fsync, rename into new/, fsync
// the directory. Once deliver() returns OK the message survives a crash,
// which is what lets an SMTP server say 250 (RFC 5321 6.1).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace smtplab::agents {

struct MaildirOptions {
  std::string root;              // the Maildir; tmp/, new/ and cur/ are created
  bool fsync = true;             // false only for benchmarks: acknowledged mail may be lost
  std::string hostname = "localhost";  // the last part of each file name
};

class MaildirStore {
 public:
  static absl::StatusOr<std::unique_ptr<MaildirStore>> open(MaildirOptions options);

  // Writes `prefix` then `message` as one file in new/; returns its file name.
  // Thread-safe: names are unique per process and call.
  absl::StatusOr<std::string> deliver(std::string_view prefix, std::string_view message);

  const MaildirOptions& options() const { return options_; }

 private:
  explicit MaildirStore(MaildirOptions options) : options_(std::move(options)) {}
  MaildirOptions options_;
  std::atomic<unsigned long long> counter_{0};
};

}  // namespace smtplab::agents
