#include "agents/message_headers.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

std::string_view header_section(std::string_view message) {
  if (message.substr(0, 2) == "\r\n") return {};
  const auto end = message.find("\r\n\r\n");
  return end == std::string_view::npos ? message : message.substr(0, end + 2);
}

std::optional<std::string> find_header(std::string_view message, std::string_view name) {
  const std::string_view headers = header_section(message);
  std::size_t pos = 0;
  while (pos < headers.size()) {
    std::size_t eol = headers.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = headers.size();
    const std::string_view line = headers.substr(pos, eol - pos);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        absl::EqualsIgnoreCase(av(line.substr(0, name.size())), av(name))) {
      const std::string_view first = line.substr(name.size() + 1);
      std::size_t next = eol + 2;
      if (next >= headers.size() || (headers[next] != ' ' && headers[next] != '\t')) {
        // Not folded, as nearly every header is: one string, no unfolding.
        return std::string(absl::StripAsciiWhitespace(av(first)));
      }
      // Unfold continuation lines (RFC 5322 2.2.3).
      std::string value(first);
      while (next < headers.size() && (headers[next] == ' ' || headers[next] == '\t')) {
        std::size_t e = headers.find("\r\n", next);
        if (e == std::string_view::npos) e = headers.size();
        value += headers.substr(next, e - next);
        next = e + 2;
      }
      return std::string(absl::StripAsciiWhitespace(value));
    }
    pos = eol + 2;
  }
  return std::nullopt;
}

std::string message_id_of(std::string_view message) {
  std::optional<std::string> id = find_header(message, "Message-ID");
  if (!id) return {};
  if (id->size() >= 2 && id->front() == '<' && id->back() == '>') {
    id->pop_back();
    id->erase(0, 1);
  }
  return *std::move(id);
}

}  // namespace smtplab::agents
