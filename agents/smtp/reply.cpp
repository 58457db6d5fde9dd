#include "agents/smtp/reply.hpp"

#include <charconv>

#include "base/absl_string_view.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smtplab::smtp {

std::string Reply::text() const { return absl::StrJoin(lines, " "); }

std::string Reply::format() const {
  std::string out;
  format_to(out);
  return out;
}

void Reply::format_to(std::string& out) const {
  char code_digits[12];
  const auto written = std::to_chars(code_digits, code_digits + sizeof code_digits, code);
  const std::string_view code_view(code_digits, static_cast<std::size_t>(written.ptr - code_digits));
  const std::size_t n = lines.empty() ? 1 : lines.size();
  std::size_t size = 0;
  for (std::size_t i = 0; i < n; ++i) {
    size += code_view.size() + 1 + (enhanced.empty() ? 0 : enhanced.size() + 1) + (lines.empty() ? 0 : lines[i].size()) + 2;
  }
  out.reserve(out.size() + size);
  for (std::size_t i = 0; i < n; ++i) {
    out += code_view;
    out += i + 1 == n ? ' ' : '-';
    if (!enhanced.empty()) {
      out += enhanced;
      out += ' ';
    }
    if (!lines.empty()) out += lines[i];
    out += "\r\n";
  }
}

Reply make_reply(int code, std::string_view enhanced, std::string_view text) {
  return Reply{code, std::string(enhanced), {std::string(text)}};
}

namespace {

bool all_digits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Reply codes: first digit 2..5, second 0..5, third 0..9 (RFC 5321 4.2).
bool valid_code(std::string_view s) {
  return s.size() == 3 && s[0] >= '2' && s[0] <= '5' && s[1] >= '0' &&
         s[1] <= '5' && s[2] >= '0' && s[2] <= '9';
}

}  // namespace

bool is_enhanced_status_code(std::string_view s) {
  const auto first = s.find('.');
  if (first == std::string_view::npos) return false;
  const auto second = s.find('.', first + 1);
  if (second == std::string_view::npos) return false;
  const auto klass = s.substr(0, first);
  return (klass == "2" || klass == "4" || klass == "5") &&
         all_digits(s.substr(first + 1, second - first - 1), 1, 3) &&
         all_digits(s.substr(second + 1), 1, 3);
}

void ReplyParser::feed(std::string_view bytes) { in_.append(bytes); }

std::optional<absl::StatusOr<Reply>> ReplyParser::next() {
  while (true) {
    const std::string_view rest = in_.data();
    const auto eol = rest.find('\n');
    if (eol == std::string_view::npos) {
      if (rest.size() > kMaxReplyLineOctets) {
        in_.clear();
        pending_ = Reply{};
        return absl::StatusOr<Reply>(absl::InvalidArgumentError(absl::StrCat(
            "reply line longer than ", kMaxReplyLineOctets, " octets")));
      }
      return std::nullopt;
    }
    std::string_view line = rest.substr(0, eol);
    in_.consume(eol + 1);  // `line` stays valid: consumed bytes go at the next feed()
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    auto fail = [&](std::string why) {
      // The message quotes the line, which lives in the buffer: build it first.
      absl::Status error = absl::InvalidArgumentError(absl::StrCat(why, ": \"", absl::CEscape(av(line.substr(0, 200))), "\""));
      in_.clear();
      pending_ = Reply{};
      pending_octets_ = 0;
      return std::optional<absl::StatusOr<Reply>>(std::move(error));
    };
    if (line.size() < 3 || !valid_code(line.substr(0, 3))) {
      return fail("malformed reply: expected a three-digit code 200..559");
    }
    const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    bool last = true;
    std::string_view text;
    if (line.size() > 3) {
      if (line[3] == '-') {
        last = false;
      } else if (line[3] != ' ') {
        return fail("malformed reply: expected ' ' or '-' after the code");
      }
      text = line.substr(4);
    }
    if (!pending_.lines.empty() && pending_.code != code) {
      return fail(absl::StrCat("malformed multi-line reply: code changed from ",
                               pending_.code, " to ", code));
    }
    pending_.code = code;
    // An enhanced code must start with the reply's own class digit (RFC 3463 2,
    // RFC 2034 4); otherwise the text merely looks like one.
    const auto space = text.find(' ');
    const auto first_word = text.substr(0, space);
    if (is_enhanced_status_code(first_word) && first_word[0] == line[0]) {
      if (pending_.lines.empty()) pending_.enhanced = std::string(first_word);
      text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
    }
    pending_.lines.emplace_back(text);
    pending_octets_ += line.size() + 2;
    if (!last && (pending_.lines.size() >= kMaxReplyLines || pending_octets_ > kMaxReplyOctets)) {
      // A reply that never ends would grow without bound: a broken or hostile server.
      return fail(absl::StrCat("reply longer than ", kMaxReplyLines, " lines or ", kMaxReplyOctets, " octets"));
    }
    if (last) {
      pending_octets_ = 0;
      Reply done = std::move(pending_);
      pending_ = Reply{};
      return absl::StatusOr<Reply>(std::move(done));
    }
  }
}

}  // namespace smtplab::smtp
