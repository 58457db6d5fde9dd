// A folder a command works in: the one the user named (kept), or a fresh
// temporary one (removed when the command ends, however it ends).
#pragma once

#include <string>

namespace smtplab::cli {

class WorkDirectory {
 public:
  // `chosen` empty: makes /tmp/PREFIX-XXXXXX. ok() is false if that failed
  // (the reason is printed on stderr).
  WorkDirectory(const std::string& chosen, const std::string& prefix);
  ~WorkDirectory();
  WorkDirectory(const WorkDirectory&) = delete;
  WorkDirectory& operator=(const WorkDirectory&) = delete;

  bool ok() const { return !path_.empty(); }
  bool temporary() const { return temporary_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool temporary_ = false;
};

}  // namespace smtplab::cli
