// Splits a command stream into lines (RFC 5321 2.3.8: lines end with CRLF).
// Over-long lines are discarded as they arrive, so a client cannot make the
// server buffer without bound, and reported once their end is seen.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "agents/smtp/line_ending.hpp"

namespace smtplab::smtp {

struct CommandLine {
  std::string_view text;  // without the line end; valid until the buffer changes
  bool bare_lf = false;   // has an LF without CR: inside it (kReject) or as its end (the lenient settings)
  bool bare_cr = false;   // contains a CR not followed by LF
  bool too_long = false;  // longer than the reader's limit (text is then empty)
  bool has_nul = false;   // contains a NUL octet
};

class CommandLineReader {
 public:
  // Under kReject only CRLF ends a line; the other settings also end one at a bare LF.
  explicit CommandLineReader(std::size_t max_octets_with_crlf,
                             BareLineEnding bare_line_ending = BareLineEnding::kReject)
      : max_(max_octets_with_crlf), bare_line_ending_(bare_line_ending) {}

  // Takes the next line out of buffer[pos...], advancing pos past it. Returns
  // nullopt when no complete line is there yet (pos may still advance while an
  // over-long line is being discarded).
  std::optional<CommandLine> next(std::string_view buffer, std::size_t& pos);
  void set_limit(std::size_t max_octets_with_crlf) { max_ = max_octets_with_crlf; }

 private:
  std::size_t max_;
  BareLineEnding bare_line_ending_;
  bool discarding_ = false;
  // Under kReject, a refused line was answered at a bare LF that was the
  // last octet received; what follows up to the next CRLF is still that
  // line (RFC 5321 2.3.8), and is dropped without a second reply.
  bool in_refused_line_ = false;
};

}  // namespace smtplab::smtp
