#include "agents/auth/mail_message.hpp"

namespace smtplab::auth {

MailMessage parse_mail_message(std::string_view text) {
  MailMessage message;
  std::size_t at = 0;
  while (at < text.size()) {
    if (text.substr(at, 2) == "\r\n") {
      message.body = text.substr(at + 2);
      return message;
    }
    // The field runs to a CRLF not followed by a space or tab (unfolding, RFC 5322 2.2.3).
    std::size_t end = at;
    for (;;) {
      const std::size_t crlf = text.find("\r\n", end);
      if (crlf == std::string_view::npos) {
        end = text.size();
        break;
      }
      end = crlf + 2;
      if (end >= text.size() || (text[end] != ' ' && text[end] != '\t')) break;
    }
    const std::string_view raw = text.substr(at, end - at);
    const std::size_t colon = raw.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      message.body = text.substr(at);  // not a field: what follows is the body
      return message;
    }
    std::string_view value = raw.substr(colon + 1);
    if (value.ends_with("\r\n")) value.remove_suffix(2);
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
    message.fields.push_back({name, raw, value});
    at = end;
  }
  return message;
}

}  // namespace smtplab::auth
