#include "agents/auth/spf_macro.hpp"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/absl_string_view.hpp"
#include "absl/strings/str_cat.h"

namespace smtplab::auth {
namespace {

bool is_macro_letter(char c, MacroScope scope) {
  switch (absl::ascii_tolower(static_cast<unsigned char>(c))) {
    case 's': case 'l': case 'o': case 'd': case 'i': case 'p': case 'h': case 'v':
      return true;
    case 'c': case 'r': case 't':
      return scope == MacroScope::kExplanation;
    default:
      return false;
  }
}

bool is_delimiter(char c) {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

// One piece of a macro-string: a literal run, or one macro-expand.
struct Token {
  bool macro = false;
  std::string_view text;  // literal text, or the whole "%{...}" / "%%" / "%_" / "%-"
};

// Splits a macro-string into tokens; fills `error` and stops at the first problem.
std::vector<Token> tokenize(std::string_view text, MacroScope scope, std::optional<std::string>& error) {
  std::vector<Token> tokens;
  std::size_t literal_start = 0;
  auto flush_literal = [&](std::size_t end) {
    if (end > literal_start) tokens.push_back({false, text.substr(literal_start, end - literal_start)});
  };
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c != '%') {
      // macro-literal = %x21-24 / %x26-7E: visible ASCII, no space or control;
      // an explanation is words, so there spaces too (explain-string, 6.2).
      const bool space_allowed = c == ' ' && scope == MacroScope::kExplanation;
      if ((c < 0x21 || c > 0x7e) && !space_allowed) {
        error = absl::StrCat("character 0x", absl::Hex(c, absl::kZeroPad2), " at column ", i + 1,
                             " is not allowed in a macro-string (RFC 7208 7.1)");
        return tokens;
      }
      ++i;
      continue;
    }
    flush_literal(i);
    if (i + 1 >= text.size()) {
      error = absl::StrCat("'%' at column ", i + 1, " ends the text (RFC 7208 7.1)");
      return tokens;
    }
    const char next = text[i + 1];
    if (next == '%' || next == '_' || next == '-') {
      tokens.push_back({true, text.substr(i, 2)});
      i += 2;
      literal_start = i;
      continue;
    }
    if (next != '{') {
      error = absl::StrCat("'%", std::string(1, next), "' at column ", i + 1,
                           " is not a macro: only %{...}, %%, %_ and %- are (RFC 7208 7.1)");
      return tokens;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = absl::StrCat("'%{' at column ", i + 1, " is never closed (RFC 7208 7.1)");
      return tokens;
    }
    const std::string_view body = text.substr(i + 2, close - i - 2);
    if (body.empty() || !is_macro_letter(body[0], scope)) {
      error = absl::StrCat("'%{", av(body.substr(0, 1)), "' at column ", i + 1, " is not a macro letter",
                           scope == MacroScope::kDomainSpec ? " here (c, r and t only in explanations)" : "",
                           " (RFC 7208 7.2)");
      return tokens;
    }
    std::size_t j = 1;
    std::size_t digits_start = j;
    while (j < body.size() && absl::ascii_isdigit(static_cast<unsigned char>(body[j]))) ++j;
    if (j > digits_start) {
      std::string_view digits = body.substr(digits_start, j - digits_start);
      if (digits.find_first_not_of('0') == std::string_view::npos) {
        error = absl::StrCat("'%{", av(body), "}' keeps zero parts: the number must be nonzero (RFC 7208 7.3)");
        return tokens;
      }
    }
    if (j < body.size() && (body[j] == 'r' || body[j] == 'R')) ++j;
    for (; j < body.size(); ++j) {
      if (!is_delimiter(body[j])) {
        error = absl::StrCat("'%{", av(body), "}' has '", av(body.substr(j, 1)),
                             "' where a delimiter (. - + , / _ =) belongs (RFC 7208 7.1)");
        return tokens;
      }
    }
    tokens.push_back({true, text.substr(i, close - i + 1)});
    i = close + 1;
    literal_start = i;
  }
  flush_literal(text.size());
  return tokens;
}

bool is_alphanum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
bool is_toplabel(std::string_view label) {
  if (label.empty()) return false;
  if (std::all_of(label.begin(), label.end(), is_alphanum)) {
    return std::any_of(label.begin(), label.end(), [](char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)); });
  }
  if (!is_alphanum(label.front()) || !is_alphanum(label.back())) return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alphanum(c) || c == '-'; });
}

}  // namespace

std::optional<std::string> macro_string_error(std::string_view text, MacroScope scope) {
  std::optional<std::string> error;
  tokenize(text, scope, error);
  return error;
}

std::optional<std::string> domain_spec_error(std::string_view text) {
  std::optional<std::string> error;
  std::vector<Token> tokens = tokenize(text, MacroScope::kDomainSpec, error);
  if (error) return error;
  if (tokens.empty()) return "the domain-spec is empty (RFC 7208 12)";
  if (tokens.back().macro) return std::nullopt;
  std::string_view tail = tokens.back().text;
  if (!tail.empty() && tail.back() == '.') tail.remove_suffix(1);
  const std::size_t dot = tail.rfind('.');
  if (dot == std::string_view::npos || !is_toplabel(tail.substr(dot + 1))) {
    return absl::StrCat("'", av(text), "' does not end in a top label such as .com (RFC 7208 12, domain-end)");
  }
  return std::nullopt;
}

namespace {

std::optional<std::string> letter_value(char letter, const MacroValues& v) {
  switch (absl::ascii_tolower(static_cast<unsigned char>(letter))) {
    case 's': return v.sender;
    case 'l': return v.local_part;
    case 'o': return v.sender_domain;
    case 'd': return v.domain;
    case 'i': return v.ip.macro_text();
    case 'c': return v.ip.text();
    case 'v': return std::string(v.ip.is_v6() ? "ip6" : "in-addr");
    case 'h': return v.helo;
    case 'r': return v.receiver.empty() ? std::string("unknown") : v.receiver;
    case 't': return absl::StrCat(v.timestamp);
    case 'p':
      if (!v.validated_domain) return std::string("unknown");
      return v.validated_domain();
  }
  return std::string();
}

// "%{" letter digits ["r"] delimiters "}" applied to its value (RFC 7208 7.3).
std::optional<std::string> expand_one(std::string_view macro, const MacroValues& values) {
  if (macro == "%%") return std::string("%");
  if (macro == "%_") return std::string(" ");
  if (macro == "%-") return std::string("%20");
  const std::string_view body = macro.substr(2, macro.size() - 3);
  std::optional<std::string> value = letter_value(body[0], values);
  if (!value) return std::nullopt;
  std::size_t j = 1;
  std::size_t keep = 0;
  while (j < body.size() && absl::ascii_isdigit(static_cast<unsigned char>(body[j]))) {
    keep = std::min<std::size_t>(keep * 10 + (body[j] - '0'), 10000);
    ++j;
  }
  bool reverse = false;
  if (j < body.size() && (body[j] == 'r' || body[j] == 'R')) {
    reverse = true;
    ++j;
  }
  std::string_view delimiters = body.substr(j);
  if (delimiters.empty()) delimiters = ".";
  const bool transforms = keep != 0 || reverse || j < body.size();
  std::string out = *value;
  if (transforms) {
    std::vector<std::string_view> parts;
    std::string_view rest = *value;
    for (;;) {
      const std::size_t at = rest.find_first_of(delimiters);
      parts.push_back(rest.substr(0, at));
      if (at == std::string_view::npos) break;
      rest.remove_prefix(at + 1);
    }
    if (reverse) std::reverse(parts.begin(), parts.end());
    if (keep != 0 && keep < parts.size()) parts.erase(parts.begin(), parts.end() - keep);
    out.clear();
    for (std::size_t k = 0; k < parts.size(); ++k) {
      if (k > 0) out += '.';
      out += parts[k];
    }
  }
  if (absl::ascii_isupper(static_cast<unsigned char>(body[0]))) {
    // An upper-case letter URL-escapes all but RFC 3986 2.3's unreserved characters.
    std::string escaped;
    for (unsigned char c : out) {
      if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        escaped += static_cast<char>(c);
      } else {
        absl::StrAppend(&escaped, "%", absl::AsciiStrToUpper(absl::StrCat(absl::Hex(c, absl::kZeroPad2))));
      }
    }
    out = std::move(escaped);
  }
  return out;
}

}  // namespace

std::optional<std::string> expand_macros(std::string_view text, const MacroValues& values) {
  std::optional<std::string> error;
  std::vector<Token> tokens = tokenize(text, MacroScope::kExplanation, error);
  std::string out;
  for (const Token& token : tokens) {
    if (!token.macro) {
      out += token.text;
      continue;
    }
    std::optional<std::string> piece = expand_one(token.text, values);
    if (!piece) return std::nullopt;
    out += *piece;
  }
  return out;
}

std::string truncate_domain(std::string domain) {
  while (domain.size() > 253) {
    const std::size_t dot = domain.find('.');
    if (dot == std::string::npos) return domain;
    domain.erase(0, dot + 1);
  }
  return domain;
}

}  // namespace smtplab::auth
