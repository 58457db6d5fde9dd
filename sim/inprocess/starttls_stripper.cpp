#include "sim/inprocess/starttls_stripper.hpp"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"

namespace smtplab::sim {
namespace {

// A TLS record starts with its content type (22 = handshake, 21 = alert,
// 23 = application data) and major version 3.
bool looks_like_tls(const std::string& b) {
  return b.size() >= 3 && (b[0] == 22 || b[0] == 21 || b[0] == 23) && b[1] == 3;
}

// Finds "STARTTLS" as an EHLO keyword ("250-STARTTLS" or "250 STARTTLS"), any case.
std::size_t find_starttls_keyword(const std::string& b) {
  std::string upper = b;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  for (std::size_t pos = upper.find("STARTTLS"); pos != std::string::npos; pos = upper.find("STARTTLS", pos + 1)) {
    if (pos >= 4 && upper.compare(pos - 4, 3, "250") == 0 && (upper[pos - 1] == '-' || upper[pos - 1] == ' ')) {
      return pos;
    }
  }
  return std::string::npos;
}

std::string first_line(const std::string& b) {
  const std::size_t end = b.find_first_of("\r\n");
  std::string line = b.substr(0, std::min<std::size_t>(end, 120));
  for (char& c : line) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '.';
  }
  return line;
}

}  // namespace

void StartTlsStripper::record(EventKind kind, std::uint64_t connection, const std::string& from,
                              const std::string& to, std::string text) {
  record_link_event(trace_, kind, "attacker", from, to, connection, std::move(text));
}

std::string StartTlsStripper::on_bytes(std::uint64_t connection, const std::string& from, const std::string& to,
                                       std::string bytes) {
  if (encrypted_.count(connection) != 0) return bytes;
  if (looks_like_tls(bytes)) {
    encrypted_.insert(connection);
    record(EventKind::kAttackBlind, connection, from, to,
           "TLS records: from here on the attacker sees only ciphertext and cannot change it unnoticed");
    return bytes;
  }
  if (const std::size_t pos = strip_ ? find_starttls_keyword(bytes) : std::string::npos; pos != std::string::npos) {
    const std::string sent = first_line(bytes.substr(pos - 4));  // "250-STARTTLS"
    bytes.replace(pos, 8, "XXXXXXXA");  // same length: nothing else on the wire moves
    // The trace shows the reply as the server sent it; this event says what
    // reached the client instead, line for line.
    record(EventKind::kAttackStrip, connection, from, to,
           absl::StrCat("the attacker rewrote ", from, "'s EHLO reply to ", to, ": ", to, " reads \"",
                        first_line(bytes.substr(pos - 4)), "\" where ", from, " sent \"", sent, "\""));
    return bytes;
  }
  const std::size_t lines = static_cast<std::size_t>(std::count(bytes.begin(), bytes.end(), '\n'));
  // In message text, the Subject line is what makes the point.
  std::string subject;
  if (const std::size_t at = bytes.find("\nSubject:"); at != std::string::npos && at > 0) {
    subject = absl::StrCat(", among them \"", first_line(bytes.substr(at + 1)), "\"");
  }
  record(EventKind::kAttackRead, connection, from, to,
         absl::StrCat("the attacker reads ", from, " -> ", to, ": ", first_line(bytes),
                      lines > 1 ? absl::StrCat(" (+", lines - 1, " more lines", subject, ")") : ""));
  return bytes;
}

}  // namespace smtplab::sim
