#include "agents/smtp/line_reader.hpp"

#include <cstring>

namespace smtplab::smtp {

std::optional<CommandLine> CommandLineReader::next(std::string_view buffer, std::size_t& pos) {
  if (in_refused_line_) {
    // The rest of a line already refused: however the client's bytes were
    // cut into writes, "NOOP<LF>" then "RCPT TO:<x><CRLF>" is one line, as
    // it is when both come in one write. Nothing in it is run.
    const std::size_t crlf = buffer.find("\r\n", pos);
    if (crlf == std::string_view::npos) {
      // Keep a final CR: the LF of its CRLF may come with the next input.
      pos = buffer.size() - (buffer.size() > pos && buffer.back() == '\r' ? 1 : 0);
      return std::nullopt;
    }
    pos = crlf + 2;
    in_refused_line_ = false;
  }
  const std::string_view rest = buffer.substr(pos);
  std::size_t end = std::string_view::npos;  // where the line's text ends
  std::size_t end_octets = 1;                // the LF, or CR LF
  if (bare_line_ending_ != BareLineEnding::kReject) {
    end = rest.find('\n');  // the lenient settings: any LF ends the line
  } else {
    // RFC 5321 2.3.8: only CRLF ends a line. A bare LF is part of the line,
    // which is then refused as one command: "NOOP<LF>RCPT TO:<x>" is one bad
    // line, never a NOOP and then a RCPT.
    end = rest.find("\r\n");
    end_octets = 2;
    if (end == std::string_view::npos && !rest.empty() && rest.back() == '\n') {
      // A bare LF as the last octet received so far: the line is refused
      // now, so a client that ends lines with LF alone gets its 500 at once
      // instead of waiting for a CRLF it will never send. The line itself
      // goes on to the next CRLF (in_refused_line_): LF never splits one.
      end = rest.size() - 1;
      end_octets = 1;
      in_refused_line_ = true;
    }
  }
  if (end == std::string_view::npos) {
    if (rest.size() > max_) {
      discarding_ = true;
      // Keep a final CR: the LF of its CRLF may come with the next input.
      pos = buffer.size() - (rest.back() == '\r' ? 1 : 0);
    }
    return std::nullopt;
  }
  std::string_view text = rest.substr(0, end);
  pos += end + end_octets;
  CommandLine line;
  if (discarding_) {
    discarding_ = false;
    line.too_long = true;
    return line;
  }
  if (end_octets == 2) {
    line.bare_lf = text.find('\n') != std::string_view::npos;
  } else if (!text.empty() && text.back() == '\r') {
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
