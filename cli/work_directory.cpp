#include "cli/work_directory.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace smtplab::cli {

namespace fs = std::filesystem;

WorkDirectory::WorkDirectory(const std::string& chosen, const std::string& prefix) {
  if (!chosen.empty()) {
    path_ = chosen;
    return;
  }
  std::string pattern = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror(("cannot make a temporary folder " + pattern).c_str());
    return;
  }
  path_ = pattern;
  temporary_ = true;
}

WorkDirectory::~WorkDirectory() {
  if (!temporary_) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

}  // namespace smtplab::cli
