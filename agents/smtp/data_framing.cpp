#include "agents/smtp/data_framing.hpp"

#include <cstring>

namespace smtplab::smtp {

void append_dot_stuffed(std::string& out, std::string_view message) {
  out.reserve(out.size() + message.size() + message.size() / 64 + 5);
  bool line_start = true;
  std::size_t i = 0;
  while (i < message.size()) {
    if (line_start && message[i] == '.') out += '.';  // RFC 5321 4.5.2
    const std::size_t lf = message.find('\n', i);
    const std::size_t end = lf == std::string_view::npos ? message.size() : lf + 1;
    out.append(message.substr(i, end - i));
    line_start = lf != std::string_view::npos;
    i = end;
  }
  if (!message.empty() && !(message.size() >= 2 && message.substr(message.size() - 2) == "\r\n")) {
    out += "\r\n";
  }
  out += ".\r\n";
}

std::string normalize_to_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  // Copy each run up to a line ending in one append; only the ending itself
  // is looked at (CRLF, a bare CR or a bare LF all become CRLF). The next CR
  // and the next LF are found with memchr (string_view::find) and kept until
  // passed: find_first_of would test every octet against the set.
  std::size_t at = 0;
  std::size_t next_cr = text.find('\r');
  std::size_t next_lf = text.find('\n');
  while (at < text.size()) {
    const std::size_t end = std::min(next_cr, next_lf);
    if (end == std::string_view::npos) {
      out.append(text.substr(at));
      break;
    }
    out.append(text.substr(at, end - at)).append("\r\n");
    const bool crlf = end == next_cr && next_lf == end + 1;
    at = end + (crlf ? 2 : 1);
    if (next_cr < at) next_cr = text.find('\r', at);
    if (next_lf < at) next_lf = text.find('\n', at);
  }
  return out;
}

void DataReader::emit(char c) {
  ++octets_;
  if (octets_ <= limits_.max_message_octets) message_ += c;
}

void DataReader::emit(std::string_view s) {
  // What is kept is always the first min(octets_, max) octets; the text may
  // have been taken part by part since (take_text), so count, not size().
  const std::size_t before = octets_;
  octets_ += s.size();
  if (before < limits_.max_message_octets) message_.append(s.substr(0, limits_.max_message_octets - before));
}

void DataReader::end_line() {
  if (line_octets_ + 2 > limits_.max_text_line_octets) line_too_long_ = true;
  emit("\r\n");
  line_octets_ = 0;
  state_ = State::kLineStart;
  line_start_after_crlf_ = true;
}

void DataReader::bare_lf() {
  bare_seen_ = true;
  switch (limits_.bare_line_ending) {
    case BareLineEnding::kReject:
      // Keep it as content, not as a line end: then "<LF>.<LF>" can never end
      // the data, and the message is refused at the real end.
      emit('\n');
      ++line_octets_;
      state_ = State::kInLine;
      break;
    case BareLineEnding::kNormalize:
      end_line();
      line_start_after_crlf_ = false;  // a "." line here is not the end marker
      break;
    case BareLineEnding::kAcceptAsLineEnd:
      end_line();
      break;
  }
}

std::size_t DataReader::clean_lines(std::string_view bytes, std::size_t from) const {
  const char* base = bytes.data();
  std::size_t p = from;
  while (p < bytes.size()) {
    // A line that starts with "." (stuffing, or the end) or is empty is the
    // state machine's to read.
    if (base[p] == '.' || base[p] == '\r' || base[p] == '\n') break;
    const void* lf = std::memchr(base + p, '\n', bytes.size() - p);
    if (lf == nullptr) break;  // the line goes on in the next piece
    const auto lf_at = static_cast<std::size_t>(static_cast<const char*>(lf) - base);
    if (base[lf_at - 1] != '\r') break;  // a bare LF
    const std::size_t text = lf_at - 1 - p;
    if (std::memchr(base + p, '\r', text) != nullptr) break;  // a bare CR inside
    if (text + 2 > limits_.max_text_line_octets) break;  // flagged by the state machine
    p = lf_at + 1;
  }
  return p;
}

std::size_t DataReader::feed(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && state_ != State::kComplete) {
    if (state_ == State::kLineStart) {
      // The common case in bulk: whole "text CRLF" lines the byte-by-byte
      // reading below would keep as they are, appended at once.
      if (const std::size_t end = clean_lines(bytes, i); end > i) {
        emit(bytes.substr(i, end - i));
        line_start_after_crlf_ = true;
        i = end;
        continue;
      }
    }
    const char c = bytes[i];
    switch (state_) {
      case State::kLineStart:
        ++i;
        if (c == '.') {
          state_ = State::kDot;
        } else if (c == '\r') {
          state_ = State::kCr;
        } else if (c == '\n') {
          bare_lf();
        } else {
          emit(c);
          line_octets_ = 1;
          state_ = State::kInLine;
        }
        break;
      case State::kDot:
        ++i;
        if (c == '\r') {
          state_ = State::kDotCr;
        } else if (c == '\n') {
          if (limits_.bare_line_ending == BareLineEnding::kAcceptAsLineEnd && line_start_after_crlf_) {
            state_ = State::kComplete;  // the unsafe reading: ".<LF>" ends the data
          } else {
            emit('.');
            line_octets_ = 1;
            bare_lf();
          }
        } else {
          // The first dot of a line is transparency padding: drop it (RFC 5321 4.5.2).
          emit(c);
          line_octets_ = 1;
          state_ = State::kInLine;
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          ++i;
          if (line_start_after_crlf_) {
            state_ = State::kComplete;
          } else {
            emit('.');
            line_octets_ = 1;
            end_line();
          }
        } else {
          // ".<CR>x": a bare CR; keep both as content and read x as text.
          bare_seen_ = true;
          emit(".\r");
          line_octets_ = 2;
          state_ = State::kInLine;
        }
        break;
      case State::kInLine: {
        // The line runs to the first CR or LF: two memchr passes beat a
        // byte loop on lines of text.
        const char* base = bytes.data();
        const void* lf = std::memchr(base + i, '\n', bytes.size() - i);
        const std::size_t lf_at = lf == nullptr ? bytes.size() : static_cast<std::size_t>(static_cast<const char*>(lf) - base);
        const void* cr = std::memchr(base + i, '\r', lf_at - i);
        const std::size_t j = cr == nullptr ? lf_at : static_cast<std::size_t>(static_cast<const char*>(cr) - base);
        if (j > i) {
          emit(bytes.substr(i, j - i));
          line_octets_ += j - i;
          i = j;
        }
        if (i < bytes.size()) {
          ++i;
          if (bytes[i - 1] == '\r') {
            state_ = State::kCr;
          } else {
            bare_lf();
          }
        }
        break;
      }
      case State::kCr:
        if (c == '\n') {
          ++i;
          end_line();
        } else {
          // A CR not followed by LF is content, and against RFC 5321 2.3.8.
          bare_seen_ = true;
          emit('\r');
          ++line_octets_;
          state_ = State::kInLine;
          if (c == '\r') {
            ++i;
            state_ = State::kCr;
          }
        }
        break;
      case State::kComplete:
        break;
    }
  }
  if (line_octets_ + 2 > limits_.max_text_line_octets) line_too_long_ = true;
  return i;
}

}  // namespace smtplab::smtp
