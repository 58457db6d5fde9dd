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
  const std::string name = absl::StrCat(unique, ".", host_part_);
  const std::string tmp_path = absl::StrCat(options_.root, "/tmp/", name);
  const std::string new_path = absl::StrCat(options_.root, "/new/", name);
  const int fd = ::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errno_status("cannot create", tmp_path);
  absl::Status status = write_all(fd, prefix, message, tmp_path);
  if (status.ok() && options_.fsync && ::fsync(fd) != 0) status = errno_status("cannot fsync", tmp_path);
  if (::close(fd) != 0 && status.ok()) status = errno_status("cannot close", tmp_path);
  if (status.ok() && ::rename(tmp_path.c_str(), new_path.c_str()) != 0) status = errno_status("cannot rename", tmp_path);
  if (!status.ok()) {
    ::unlink(tmp_path.c_str());
    return status;
  }
  if (options_.fsync) {
    if (auto s = sync_directory(options_.root + "/new"); !s.ok()) return s;
  }
  return name;
}

}  // namespace smtplab::agents
