#include "agents/auth/dkim_canonicalization.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {

std::string_view canonicalization_name(Canonicalization c) {
  return c == Canonicalization::kRelaxed ? "relaxed" : "simple";
}

std::optional<CanonicalizationPair> parse_canonicalization(std::string_view text) {
  auto one = [](std::string_view name) -> std::optional<Canonicalization> {
    if (name == "simple") return Canonicalization::kSimple;
    if (name == "relaxed") return Canonicalization::kRelaxed;
    return std::nullopt;
  };
  CanonicalizationPair pair;
  const std::size_t slash = text.find('/');
  std::optional<Canonicalization> header = one(text.substr(0, slash));
  if (!header) return std::nullopt;
  pair.header = *header;
  if (slash != std::string_view::npos) {
    std::optional<Canonicalization> body = one(text.substr(slash + 1));
    if (!body) return std::nullopt;
    pair.body = *body;
  }
  return pair;
}

std::string canonicalization_text(CanonicalizationPair pair) {
  std::string out(canonicalization_name(pair.header));
  out += '/';
  out += canonicalization_name(pair.body);
  return out;
}

namespace {
bool is_wsp(char c) { return c == ' ' || c == '\t'; }
}  // namespace

std::string canonical_header(std::string_view raw, Canonicalization c) {
  if (c == Canonicalization::kSimple) {
    std::string out(raw);
    if (!out.ends_with("\r\n")) out += "\r\n";
    return out;
  }
  // relaxed (3.4.2): name in lower case, no space around the colon, the value
  // unfolded, runs of white space as one space, none at the end.
  const std::size_t colon = raw.find(':');
  std::string_view name = raw.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out = absl::AsciiStrToLower(absl::string_view(name.data(), name.size()));
  out += ':';
  std::string_view value = colon == std::string_view::npos ? std::string_view() : raw.substr(colon + 1);
  bool space = false;
  bool started = false;
  for (char ch : value) {
    if (ch == '\r' || ch == '\n') continue;  // unfolding
    if (is_wsp(ch)) {
      space = true;
      continue;
    }
    if (space && started) out += ' ';
    space = false;
    started = true;
    out += ch;
  }
  out += "\r\n";
  return out;
}

std::string canonical_body(std::string_view body, Canonicalization c) {
  std::string out;
  out.reserve(body.size() + 2);
  if (c == Canonicalization::kRelaxed) {
    // Per line: white space at the end goes, runs inside become one space (3.4.4).
    std::size_t at = 0;
    while (at < body.size()) {
      std::size_t end = body.find("\r\n", at);
      const bool terminated = end != std::string_view::npos;
      if (!terminated) end = body.size();
      std::string_view line = body.substr(at, end - at);
      while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
      bool space = false;
      for (char ch : line) {
        if (is_wsp(ch)) {
          space = true;
          continue;
        }
        if (space) out += ' ';
        space = false;
        out += ch;
      }
      out += "\r\n";  // an unterminated last line gets its CRLF (3.4.4)
      at = terminated ? end + 2 : body.size();
    }
  } else {
    out.assign(body.data(), body.size());
    if (!out.empty() && !out.ends_with("\r\n")) out += "\r\n";
  }
  // Empty lines at the end go (both forms); simple keeps one CRLF even for an
  // empty body, relaxed makes an empty body empty (3.4.3, 3.4.4).
  while (out.ends_with("\r\n\r\n")) out.resize(out.size() - 2);
  if (c == Canonicalization::kSimple) {
    if (out.empty()) out = "\r\n";
  } else if (out == "\r\n") {
    out.clear();
  }
  return out;
}

std::string canonical_signed_fields(const MailMessage& message, const std::vector<std::string>& names,
                                    Canonicalization c) {
  std::string data;
  std::vector<bool> used(message.fields.size(), false);
  for (const std::string& name : names) {
    for (std::size_t i = message.fields.size(); i-- > 0;) {
      if (used[i] || !absl::EqualsIgnoreCase(av(message.fields[i].name), name)) continue;
      used[i] = true;
      data += canonical_header(message.fields[i].raw, c);
      break;
    }
  }
  return data;
}

}  // namespace smtplab::auth
