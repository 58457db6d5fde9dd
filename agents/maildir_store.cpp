#include "agents/maildir_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {
namespace {

absl::Status errno_status(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(av(what), " ", path, ": ", std::strerror(errno)));
}

absl::Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return absl::OkStatus();
  return errno_status("cannot create", path);
}

absl::Status write_all(int fd, std::string_view a, std::string_view b, const std::string& path) {
  iovec parts[2] = {{const_cast<char*>(a.data()), a.size()}, {const_cast<char*>(b.data()), b.size()}};
  int first = 0;
  while (first < 2) {
    const ssize_t n = ::writev(fd, parts + first, 2 - first);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status("cannot write", path);
    }
    std::size_t left = static_cast<std::size_t>(n);
    while (first < 2 && left >= parts[first].iov_len) {
      left -= parts[first].iov_len;
      ++first;
    }
    if (first < 2) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return absl::OkStatus();
}

absl::Status sync_directory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_status("cannot fsync", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<MaildirStore>> MaildirStore::open(MaildirOptions options) {
  if (options.root.empty()) return absl::InvalidArgumentError("no Maildir path given");
  for (const std::string& dir : {options.root, options.root + "/tmp", options.root + "/new", options.root + "/cur"}) {
    if (auto s = make_dir(dir); !s.ok()) return s;
  }
  return std::unique_ptr<MaildirStore>(new MaildirStore(std::move(options)));
}

MaildirStore::MaildirStore(MaildirOptions options) : options_(std::move(options)) {
  for (const char c : options_.hostname) {
    if (c == '/') host_part_ += "\\057";
    else if (c == ':') host_part_ += "\\072";
    else host_part_ += c;
  }
}

std::string MaildirStore::next_unique() {
  // Modern Maildir names: seconds.M<microseconds>P<pid>Q<counter>.host
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  static const pid_t pid = ::getpid();
  return absl::StrCat(micros / 1000000, ".M", micros % 1000000, "P", pid, "Q", counter_.fetch_add(1) + 1);
}

absl::StatusOr<std::string> MaildirStore::deliver_as(const std::string& unique, std::string_view prefix,
                                                     std::string_view message) {
  std::unique_ptr<Delivery> delivery = begin(unique);
  delivery->write(prefix);
  delivery->write(message);
  return delivery->commit();
}

std::unique_ptr<MaildirStore::Delivery> MaildirStore::begin(const std::string& unique) const {
  return std::unique_ptr<Delivery>(new Delivery(*this, absl::StrCat(unique, ".", host_part_)));
}

MaildirStore::Delivery::Delivery(const MaildirStore& store, std::string name)
    : store_(store), name_(std::move(name)), tmp_path_(absl::StrCat(store.options_.root, "/tmp/", name_)) {}

MaildirStore::Delivery::~Delivery() {
  // Still open means not committed: commit() closes the file.
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_path_.c_str());
  }
}

absl::Status MaildirStore::Delivery::write_out(std::string_view a, std::string_view b) {
  if (fd_ < 0) {
    fd_ = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) return errno_status("cannot create", tmp_path_);
  }
  return write_all(fd_, a, b, tmp_path_);
}

void MaildirStore::Delivery::write(std::string_view text) {
  if (!status_.ok() || committed_) return;
  if (buffer_.size() + text.size() <= kBufferOctets) {
    buffer_.append(text);
    return;
  }
  // The waiting text and this part in one writev, with no copy of the part.
  status_ = write_out(buffer_, text);
  buffer_.clear();
}

absl::Status MaildirStore::Delivery::write_all_text() {
  if (committed_) return absl::FailedPreconditionError("message already committed");
  committed_ = true;
  if (status_.ok()) status_ = write_out(buffer_, {});
  buffer_.clear();
  return status_;
}

void MaildirStore::Delivery::abandon(absl::Status why) {
  committed_ = true;
  if (status_.ok()) status_ = std::move(why);
  // The destructor closes the file and removes it from tmp/.
}

absl::StatusOr<std::string> MaildirStore::Delivery::publish() {
  absl::Status status = status_;
  if (fd_ >= 0) {
    if (::close(fd_) != 0 && status.ok()) status = errno_status("cannot close", tmp_path_);
    fd_ = -1;
  }
  const std::string new_path = absl::StrCat(store_.options_.root, "/new/", name_);
  if (status.ok() && ::rename(tmp_path_.c_str(), new_path.c_str()) != 0) {
    status = errno_status("cannot rename", tmp_path_);
  }
  if (!status.ok()) {
    ::unlink(tmp_path_.c_str());
    return status;
  }
  return name_;
}

absl::StatusOr<std::string> MaildirStore::Delivery::commit() {
  if (committed_) return absl::FailedPreconditionError("message already committed");
  absl::Status status = write_all_text();
  if (status.ok() && store_.options_.fsync && ::fsync(fd_) != 0) status = errno_status("cannot fsync", tmp_path_);
  if (!status.ok()) status_ = status;
  auto name = publish();
  if (!name.ok()) return name;
  if (store_.options_.fsync) {
    if (auto s = store_.sync_new_directory(); !s.ok()) return s;
  }
  return name;
}

absl::Status MaildirStore::sync_new_directory() const { return sync_directory(options_.root + "/new"); }

}  // namespace smtplab::agents
