// SMTP replies (RFC 5321 4.2) with optional enhanced status codes (RFC 3463):
// a value type, its wire format, and an incremental parser that a client feeds
// with whatever bytes arrive. The parser reports a malformed reply as an error
// instead of guessing, so a broken server is diagnosed, never crashed on.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "agents/smtp/receive_buffer.hpp"

namespace smtplab::smtp {

struct Reply {
  int code = 0;              // three digits, 200..599
  std::string enhanced;      // "2.1.0", or empty when the reply carries none
  // Text after the code (and enhanced code). Nearly every reply but EHLO's
  // has one line, kept inline: a reply costs no allocation for its list.
  absl::InlinedVector<std::string, 1> lines;
  // Why the server (or its policy) gave this reply, as a stable key for the
  // trace's explanation ("greylisted" -> "reply.451.greylisted"); never on
  // the wire, and not part of the reply's value. The keys: reply_reason.hpp,
  // whose constants live for the whole program, so a view is enough and a
  // reply copies without allocating for it.
  std::string_view reason;

  int klass() const { return code / 100; }
  bool is_positive() const { return code >= 200 && code < 400; }
  bool is_transient_failure() const { return klass() == 4; }
  bool is_permanent_failure() const { return klass() == 5; }
  // All lines joined with a space: what people want to read in one line.
  std::string text() const;
  // Wire form: "250-first\r\n250 last\r\n"; the enhanced code prefixes each line.
  std::string format() const;
  // The same, appended to `out`: the server writes its replies straight into
  // its output buffer.
  void format_to(std::string& out) const;

  friend bool operator==(const Reply& a, const Reply& b) {
    return a.code == b.code && a.enhanced == b.enhanced && a.lines == b.lines;
  }
};

// Builds a one-line reply; `enhanced` may be empty.
Reply make_reply(int code, std::string_view enhanced, std::string_view text);
// The same, with the reason it is given: one of reply_reason.hpp's constants.
inline Reply make_reply(int code, std::string_view enhanced, std::string_view text, std::string_view reason) {
  Reply r = make_reply(code, enhanced, text);
  r.reason = reason;
  return r;
}

// True for "d.ddd.ddd" with class 2, 4 or 5 (RFC 3463 2).
bool is_enhanced_status_code(std::string_view s);

// Reply lines may be up to 512 octets including CRLF (RFC 5321 4.5.3.1.5);
// the parser accepts longer ones up to this cap before calling them garbage.
inline constexpr std::size_t kMaxReplyLineOctets = 4096;
// A multi-line reply of more lines or octets than this is taken as garbage
// (real EHLO replies have a few dozen lines).
inline constexpr std::size_t kMaxReplyLines = 1000;
inline constexpr std::size_t kMaxReplyOctets = 64 * 1024;

// Feeds on bytes from a server and yields complete replies in order.
// Accepts CRLF and, leniently, bare LF as line ends (robustness principle,
// RFC 5321 4.1.1: clients must be liberal in what they accept).
class ReplyParser {
 public:
  void feed(std::string_view bytes);
  // The next complete reply, an error for a malformed one (the parser then
  // discards its buffer: after garbage, nothing that follows can be trusted),
  // or nullopt when more bytes are needed.
  std::optional<absl::StatusOr<Reply>> next();
  bool has_partial_input() const { return !in_.empty() || !pending_.lines.empty(); }

 private:
  ReceiveBuffer in_;
  Reply pending_;  // lines of a multi-line reply read so far
  std::size_t pending_octets_ = 0;
};

}  // namespace smtplab::smtp
