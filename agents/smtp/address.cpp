#include "agents/smtp/address.hpp"

#include "agents/smtp/utf8.hpp"

#include <cstdint>
#include <cstring>

#include <arpa/inet.h>

#include "base/absl_string_view.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace smtplab::smtp {
namespace {

// A cursor over the input that produces errors with a 1-based column.
class Cursor {
 public:
  Cursor(std::string_view text, bool utf8) : text_(text), utf8_(utf8) {}

  bool done() const { return pos_ >= text_.size(); }
  unsigned char peek() const { return done() ? 0 : static_cast<unsigned char>(text_[pos_]); }
  std::size_t pos() const { return pos_; }
  void advance(std::size_t n = 1) { pos_ += n; }
  bool consume(char c) {
    if (peek() == static_cast<unsigned char>(c) && !done()) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view slice(std::size_t from) const { return text_.substr(from, pos_ - from); }
  bool utf8() const { return utf8_; }

  absl::Status error(std::string_view what) const {
    std::string found = done() ? "end of input"
                               : absl::StrCat("'", absl::CEscape(av(text_.substr(pos_, 1))), "'");
    return absl::InvalidArgumentError(
        absl::StrCat("column ", pos_ + 1, ": expected ", av(what), ", found ", found));
  }

 private:
  std::string_view text_;
  bool utf8_;
  std::size_t pos_ = 0;
};

bool is_let_dig(unsigned char c) { return absl::ascii_isalnum(c); }
bool is_utf8_non_ascii(unsigned char c) { return c >= 0x80; }

// sub-domain = Let-dig [Ldh-str] (RFC 5321 4.1.2); a U-label when utf8 (RFC 6531 3.3).
absl::Status parse_sub_domain(Cursor& in) {
  auto ok_start = [&](unsigned char c) { return is_let_dig(c) || (in.utf8() && is_utf8_non_ascii(c)); };
  if (in.done() || !ok_start(in.peek())) return in.error("a letter or digit starting a domain label");
  unsigned char last = in.peek();
  in.advance();
  while (!in.done() && (ok_start(in.peek()) || in.peek() == '-')) {
    last = in.peek();
    in.advance();
  }
  if (last == '-') return in.error("a letter or digit: a domain label cannot end with '-'");
  return absl::OkStatus();
}

absl::Status parse_domain(Cursor& in) {
  const std::size_t start = in.pos();
  if (auto s = parse_sub_domain(in); !s.ok()) return s;
  while (in.peek() == '.' && !in.done()) {
    in.advance();
    if (auto s = parse_sub_domain(in); !s.ok()) return s;
  }
  if (in.pos() - start > kMaxDomainOctets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "column ", start + 1, ": domain longer than ", kMaxDomainOctets, " octets (RFC 5321 4.5.3.1.2)"));
  }
  return absl::OkStatus();
}

bool valid_ipv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = i;
    int value = 0;
    while (j < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[j])) && j - i < 3) {
      value = value * 10 + (s[j] - '0');
      ++j;
    }
    if (j == i || value > 255) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

// address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]" (RFC 5321 4.1.3)
absl::Status parse_address_literal(Cursor& in) {
  const std::size_t start = in.pos();
  if (!in.consume('[')) return in.error("'['");
  const std::size_t inner_start = in.pos();
  while (!in.done() && in.peek() != ']') {
    const unsigned char c = in.peek();
    if (c < 33 || c > 126 || c == '[' || c == '\\') return in.error("an address literal character");
    in.advance();
  }
  const std::string_view inner = in.slice(inner_start);
  if (!in.consume(']')) return in.error("']' closing the address literal");
  if (absl::StartsWithIgnoreCase(av(inner), "IPv6:")) {
    std::string addr(inner.substr(5));
    in6_addr out{};
    if (inet_pton(AF_INET6, addr.c_str(), &out) != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", start + 1, ": not a valid IPv6 address literal (RFC 5321 4.1.3)"));
    }
    return absl::OkStatus();
  }
  const auto colon = inner.find(':');
  if (colon == std::string_view::npos) {
    if (!valid_ipv4(inner)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column ", start + 1, ": not a valid IPv4 address literal (RFC 5321 4.1.3)"));
    }
    return absl::OkStatus();
  }
  // General-address-literal: Standardized-tag ":" 1*dcontent.
  const std::string_view tag = inner.substr(0, colon);
  Cursor tag_cursor(tag, false);
  if (tag.empty() || !parse_sub_domain(tag_cursor).ok() || !tag_cursor.done() ||
      colon + 1 >= inner.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column ", start + 1, ": not a valid address literal (RFC 5321 4.1.3)"));
  }
  return absl::OkStatus();
}

absl::Status parse_domain_or_literal(Cursor& in) {
  if (in.peek() == '[') return parse_address_literal(in);
  return parse_domain(in);
}

// Local-part = Dot-string / Quoted-string (RFC 5321 4.1.2).
absl::Status parse_local_part(Cursor& in) {
  const std::size_t start = in.pos();
  if (in.peek() == '"' && !in.done()) {
    in.advance();
    while (true) {
      if (in.done()) return in.error("'\"' closing the quoted local part");
      const unsigned char c = in.peek();
      if (c == '"') {
        in.advance();
        break;
      }
      if (c == '\\') {  // quoted-pairSMTP = "\" %d32-126
        in.advance();
        if (in.done() || in.peek() < 32 || in.peek() > 126) return in.error("a printable character after '\\'");
        in.advance();
        continue;
      }
      const bool qtext = (c >= 32 && c <= 126) || (in.utf8() && is_utf8_non_ascii(c));
      if (!qtext) return in.error("a printable character in the quoted local part");
      in.advance();
    }
  } else {
    auto atom = [&]() -> absl::Status {
      if (in.done() || !(is_atext(in.peek()) || (in.utf8() && is_utf8_non_ascii(in.peek())))) {
        return in.error("a local-part character (RFC 5321 4.1.2 atext)");
      }
      while (!in.done() && (is_atext(in.peek()) || (in.utf8() && is_utf8_non_ascii(in.peek())))) in.advance();
      return absl::OkStatus();
    };
    if (auto s = atom(); !s.ok()) return s;
    while (in.peek() == '.' && !in.done()) {
      in.advance();
      if (auto s = atom(); !s.ok()) return s;
    }
  }
  if (in.pos() - start > kMaxLocalPartOctets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "column ", start + 1, ": local part longer than ", kMaxLocalPartOctets, " octets (RFC 5321 4.5.3.1.1)"));
  }
  return absl::OkStatus();
}

// RFC 6531 3.3 lets UTF-8 in, not any octet above 127 (RFC 3629 4).
absl::Status check_utf8(std::string_view text, bool allow_utf8) {
  if (!allow_utf8) return absl::OkStatus();  // the grammar refuses every non-ASCII octet
  if (const auto bad = first_invalid_utf8(text)) {
    return absl::InvalidArgumentError(absl::StrCat("column ", *bad + 1, ": not valid UTF-8 (RFC 3629, RFC 6531 3.3)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Mailbox> parse_mailbox_at(Cursor& in) {
  Mailbox box;
  const std::size_t local_start = in.pos();
  if (auto s = parse_local_part(in); !s.ok()) return s;
  box.local_part = std::string(in.slice(local_start));
  if (!in.consume('@')) return in.error("'@' after the local part");
  const std::size_t domain_start = in.pos();
  if (auto s = parse_domain_or_literal(in); !s.ok()) return s;
  box.domain = std::string(in.slice(domain_start));
  return box;
}

}  // namespace

bool is_atext(unsigned char c) {
  if (absl::ascii_isalnum(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '/': case '=': case '?': case '^': case '_':
    case '`': case '{': case '|': case '}': case '~':
      return true;
    default:
      return false;
  }
}

bool has_non_ascii(std::string_view text) {
  // Eight octets at a time: every message body is scanned at every hop
  // (to decide on BODY=8BITMIME), so this shows in the chain bench.
  // Thirty-two at a time first, one test per block: bodies are ASCII nearly
  // always, so the loop runs to the end.
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 32 <= text.size(); i += 32) {
    std::uint64_t w[4];
    std::memcpy(w, text.data() + i, 32);
    if ((w[0] | w[1] | w[2] | w[3]) & kHighBits) return true;
  }
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    if (word & kHighBits) return true;
  }
  for (; i < text.size(); ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x80) return true;
  }
  return false;
}

// Addresses are written into replies, commands and trace details several
// times per message at every hop; building them in place keeps that to one
// allocation, or none when the caller's buffer has room.
void Mailbox::append_to(std::string& out) const {
  out.reserve(out.size() + local_part.size() + 1 + domain.size());
  out += local_part;
  if (!domain.empty()) {
    out += '@';
    out += domain;
  }
}

std::string Mailbox::to_string() const {
  std::string out;
  append_to(out);
  return out;
}

bool Mailbox::has_non_ascii() const { return smtp::has_non_ascii(local_part) || smtp::has_non_ascii(domain); }

void Path::append_to(std::string& out) const {
  if (is_null) {
    out += "<>";
    return;
  }
  out.reserve(out.size() + mailbox.local_part.size() + mailbox.domain.size() + 3);
  out += '<';
  mailbox.append_to(out);
  out += '>';
}

std::string Path::to_string() const {
  std::string out;
  append_to(out);
  return out;
}

absl::StatusOr<Path> parse_path(std::string_view text, const AddressSyntax& syntax) {
  if (auto s = check_utf8(text, syntax.allow_utf8); !s.ok()) return s;
  Cursor in(text, syntax.allow_utf8);
  Path path;
  if (!in.consume('<')) return in.error("'<' starting the path (RFC 5321 4.1.2)");
  if (in.consume('>')) {
    if (!syntax.allow_null) {
      return absl::InvalidArgumentError("column 1: the null path <> is only valid as a reverse-path (RFC 5321 4.1.1.2)");
    }
    if (!in.done()) return in.error("end of path after '<>'");
    path.is_null = true;
    return path;
  }
  // A-d-l ":" (source route): accepted and ignored (RFC 5321 4.1.1.3, appendix C).
  if (in.peek() == '@') {
    const std::size_t route_start = in.pos();
    do {
      if (!in.consume('@')) return in.error("'@' starting a source-route domain");
      if (auto s = parse_domain(in); !s.ok()) return s;
    } while (in.consume(','));
    path.source_route = std::string(in.slice(route_start));
    if (!in.consume(':')) return in.error("':' ending the source route");
  }
  if (syntax.allow_postmaster && path.source_route.empty()) {
    constexpr std::string_view kPostmaster = "postmaster>";
    const std::string_view rest = text.substr(in.pos());
    if (absl::EqualsIgnoreCase(av(rest), av(kPostmaster))) {
      path.is_postmaster = true;
      path.mailbox.local_part = std::string(rest.substr(0, kPostmaster.size() - 1));
      return path;
    }
  }
  auto mailbox = parse_mailbox_at(in);
  if (!mailbox.ok()) return mailbox.status();
  path.mailbox = *std::move(mailbox);
  if (!in.consume('>')) return in.error("'>' closing the path");
  if (!in.done()) return in.error("end of path after '>'");
  if (text.size() > kMaxPathOctets) {
    return absl::InvalidArgumentError(
        absl::StrCat("column 1: path longer than ", kMaxPathOctets, " octets (RFC 5321 4.5.3.1.3)"));
  }
  if (absl::EqualsIgnoreCase(path.mailbox.local_part, "postmaster") && path.mailbox.domain.empty()) {
    path.is_postmaster = true;
  }
  return path;
}

absl::StatusOr<Mailbox> parse_mailbox(std::string_view text, bool allow_utf8) {
  if (auto s = check_utf8(text, allow_utf8); !s.ok()) return s;
  Cursor in(text, allow_utf8);
  auto box = parse_mailbox_at(in);
  if (!box.ok()) return box;
  if (!in.done()) return in.error("end of address");
  return box;
}

absl::Status validate_domain_or_literal(std::string_view text, bool allow_utf8) {
  if (auto s = check_utf8(text, allow_utf8); !s.ok()) return s;
  Cursor in(text, allow_utf8);
  if (auto s = parse_domain_or_literal(in); !s.ok()) return s;
  if (!in.done()) return in.error("end of domain");
  return absl::OkStatus();
}

}  // namespace smtplab::smtp
