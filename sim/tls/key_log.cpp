#include "sim/tls/key_log.hpp"

#include <openssl/ssl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"

namespace smtplab::tls {
namespace {

struct KeyLog {
  std::mutex mutex;
  std::FILE* file = nullptr;
  std::string path;
  // In the simulator both ends of a session are ours and each reports the
  // same secrets: each line is written once.
  std::set<std::string> written;
  bool failed = false;
  int error = 0;
};

KeyLog& key_log() {
  static KeyLog log;
  return log;
}

void on_key_line(const SSL*, const char* line) {
  KeyLog& log = key_log();
  std::lock_guard lock(log.mutex);
  if (log.file == nullptr || !log.written.insert(line).second) return;
  // Flushed at once: a capture may be opened while the process still runs.
  if (std::fprintf(log.file, "%s\n", line) < 0 || std::fflush(log.file) != 0) {
    log.failed = true;
    log.error = errno;
  }
}

}  // namespace

absl::Status open_key_log(const std::string& path) {
  KeyLog& log = key_log();
  std::lock_guard lock(log.mutex);
  if (log.file != nullptr) return absl::FailedPreconditionError("a key log is already open");
  log.file = std::fopen(path.c_str(), "a");
  if (log.file == nullptr) return absl::InternalError(absl::StrCat(path, ": cannot open the key log: ", std::strerror(errno)));
  log.path = path;
  log.written.clear();
  log.failed = false;
  return absl::OkStatus();
}

absl::Status close_key_log() {
  KeyLog& log = key_log();
  std::lock_guard lock(log.mutex);
  if (log.file == nullptr) return absl::OkStatus();
  const bool closed = std::fclose(log.file) == 0;
  const int close_error = errno;
  log.file = nullptr;
  if (log.failed) return absl::InternalError(absl::StrCat(log.path, ": cannot write the key log: ", std::strerror(log.error)));
  if (!closed) return absl::InternalError(absl::StrCat(log.path, ": cannot close the key log: ", std::strerror(close_error)));
  return absl::OkStatus();
}

std::size_t key_log_lines() {
  KeyLog& log = key_log();
  std::lock_guard lock(log.mutex);
  return log.written.size();
}

void attach_key_log(SSL_CTX* ctx) { SSL_CTX_set_keylog_callback(ctx, on_key_line); }

}  // namespace smtplab::tls
