// The DATA phase framing of RFC 5321 4.1.1.4 and 4.5.2: the message ends at
// CRLF "." CRLF, and a line that starts with "." gets one more "." on the wire
// (dot-stuffing) so it cannot be mistaken for the end.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "agents/smtp/line_ending.hpp"

namespace smtplab::smtp {

// Appends `message` dot-stuffed to `out`, adds a final CRLF if the message
// lacks one, then the terminating ".\r\n".
void append_dot_stuffed(std::string& out, std::string_view message);

// Turns bare LF (and a CR before nothing) into CRLF: for message files written
// with Unix line ends. CRLF pairs are kept.
std::string normalize_to_crlf(std::string_view text);

struct DataLimits {
  std::size_t max_message_octets = 10240000;  // Postfix message_size_limit
  std::size_t max_text_line_octets = 1000;    // with CRLF, not counting a stuffed dot (RFC 5321 4.5.3.1.6)
  BareLineEnding bare_line_ending = BareLineEnding::kReject;
};

// Reads the message text after a 354 reply: removes dot-stuffing, finds the
// end of data, and notes every way the text broke the rules. Keeps at most
// max_message_octets of content (it keeps counting beyond that, so the server
// can read the rest and answer 552 cleanly), either whole (take_message) or
// part by part as it arrives (text, clear_text).
class DataReader {
 public:
  explicit DataReader(const DataLimits& limits) : limits_(limits) {}
  // Room for a message of about this size, to spare regrowing the buffer
  // line by line. Capped: the figure may come from the client (SIZE=).
  void expect_octets(std::size_t octets) { message_.reserve(std::min<std::size_t>(octets, 64 * 1024)); }

  // Consumes bytes up to and including the end-of-data line; returns how many
  // it consumed. Bytes after the end belong to the next command (PIPELINING).
  std::size_t feed(std::string_view bytes);

  bool complete() const { return state_ == State::kComplete; }
  std::size_t octets() const { return octets_; }  // message size, unstuffed, with CRLFs
  bool size_exceeded() const { return octets_ > limits_.max_message_octets; }
  bool line_too_long() const { return line_too_long_; }
  bool saw_bare_cr_or_lf() const { return bare_seen_; }
  std::string take_message() { return std::move(message_); }
  // The text kept since the last clear_text(), for an owner that passes it on
  // as it arrives (ServerPolicy::open_message) instead of holding it whole.
  std::string_view text() const { return message_; }
  void clear_text() { message_.clear(); }  // keeps the capacity for the next part

 private:
  enum class State { kLineStart, kDot, kDotCr, kInLine, kCr, kComplete };
  void emit(char c);
  void emit(std::string_view s);
  void end_line();
  void bare_lf();
  // From `from`, a line start: the end of the run of whole lines that need no
  // unstuffing and break no rule (no leading ".", no bare CR or LF, within
  // the line limit), each ended by CRLF.
  std::size_t clean_lines(std::string_view bytes, std::size_t from) const;

  DataLimits limits_;
  State state_ = State::kLineStart;
  bool line_start_after_crlf_ = true;  // the data starts right after "DATA\r\n"
  std::size_t line_octets_ = 0;
  std::size_t octets_ = 0;
  bool line_too_long_ = false;
  bool bare_seen_ = false;
  std::string message_;
};

}  // namespace smtplab::smtp
