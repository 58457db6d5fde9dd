// Colour and terminal detection for the CLI: colour only when stdout is a
// terminal and NO_COLOR (no-color.org) is not set; plain text in pipes and CI.
#pragma once

#include <string>
#include <string_view>

namespace smtplab::cli {

bool stdout_is_terminal();
bool stdin_is_terminal();

class Style {
 public:
  explicit Style(bool color) : color_(color) {}
  static Style for_stdout();
  bool color() const { return color_; }
  std::string bold(std::string_view s) const { return wrap("1", s); }
  std::string dim(std::string_view s) const { return wrap("2", s); }
  std::string red(std::string_view s) const { return wrap("31", s); }
  std::string green(std::string_view s) const { return wrap("32", s); }
  std::string yellow(std::string_view s) const { return wrap("33", s); }
  std::string blue(std::string_view s) const { return wrap("34", s); }
  std::string magenta(std::string_view s) const { return wrap("35", s); }
  std::string cyan(std::string_view s) const { return wrap("36", s); }

 private:
  std::string wrap(const char* code, std::string_view s) const;
  bool color_;
};

// Breaks a paragraph into lines of at most `width` columns, each prefixed.
std::string wrap_paragraph(std::string_view text, std::string_view prefix, std::size_t width = 78);

}  // namespace smtplab::cli
