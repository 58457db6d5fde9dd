#include "cli/terminal.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace smtplab::cli {

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }
bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }

Style Style::for_stdout() {
  const char* no_color = std::getenv("NO_COLOR");
  return Style(stdout_is_terminal() && (no_color == nullptr || *no_color == '\0'));
}

std::string Style::wrap(const char* code, std::string_view s) const {
  if (!color_) return std::string(s);
  return std::string("\x1b[") + code + "m" + std::string(s) + "\x1b[0m";
}

std::string wrap_paragraph(std::string_view text, std::string_view prefix, std::size_t width) {
  std::istringstream words{std::string(text)};
  std::string word, line, out;
  while (words >> word) {
    if (!line.empty() && prefix.size() + line.size() + 1 + word.size() > width) {
      out += std::string(prefix) + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += std::string(prefix) + line + "\n";
  return out;
}

}  // namespace smtplab::cli
