#include "agents/smtp/line_reader.hpp"

#include <cstring>

namespace smtplab::smtp {

std::optional<CommandLine> CommandLineReader::next(std::string_view buffer, std::size_t& pos) {
  const std::size_t lf = buffer.find('\n', pos);
  if (lf == std::string_view::npos) {
    if (buffer.size() - pos > max_) {
      discarding_ = true;
      pos = buffer.size();
    }
    return std::nullopt;
  }
  std::string_view text = buffer.substr(pos, lf - pos);
  pos = lf + 1;
  CommandLine line;
  if (discarding_) {
    discarding_ = false;
    line.too_long = true;
    return line;
  }
  if (!text.empty() && text.back() == '\r') {
    text.remove_suffix(1);
  } else {
    line.bare_lf = true;
  }
  if (text.size() + 2 > max_) {
    line.too_long = true;
    return line;
  }
  line.bare_cr = text.find('\r') != std::string_view::npos;
  line.has_nul = std::memchr(text.data(), '\0', text.size()) != nullptr;
  line.text = text;
  return line;
}

}  // namespace smtplab::smtp
