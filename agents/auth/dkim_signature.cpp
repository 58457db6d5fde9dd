#include "agents/auth/dkim_signature.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/auth/dkim_tags.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {

std::string_view dkim_algorithm_name(DkimAlgorithm a) {
  return a == DkimAlgorithm::kEd25519Sha256 ? "ed25519-sha256" : "rsa-sha256";
}

std::optional<DkimAlgorithm> parse_dkim_algorithm(std::string_view name) {
  if (name == "rsa-sha256") return DkimAlgorithm::kRsaSha256;
  if (name == "ed25519-sha256") return DkimAlgorithm::kEd25519Sha256;
  return std::nullopt;
}

namespace {

std::optional<std::string> decode_base64(std::string_view text) {
  std::string out;
  if (!absl::Base64Unescape(av(without_whitespace(text)), &out)) return std::nullopt;
  return out;
}

template <typename Int>
std::optional<Int> parse_number(std::string_view text, std::size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  Int value = 0;
  if (!absl::SimpleAtoi(av(text), &value)) return std::nullopt;
  return value;
}

DkimSyntaxError problem(std::string text) { return DkimSyntaxError{std::move(text)}; }

}  // namespace

std::variant<DkimSignature, DkimSyntaxError> parse_dkim_signature(std::string_view value) {
  std::variant<TagList, TagListError> parsed = parse_tag_list(value);
  if (const auto* e = std::get_if<TagListError>(&parsed)) {
    return problem(absl::StrCat("column ", e->column, ": ", e->problem));
  }
  const TagList& tags = std::get<TagList>(parsed);
  for (const char* required : {"v", "a", "b", "bh", "d", "h", "s"}) {
    if (!tags.find(required)) return problem(absl::StrCat("the required tag ", required, "= is missing (RFC 6376 3.5)"));
  }
  if (*tags.find("v") != "1") return problem(absl::StrCat("v=", av(*tags.find("v")), " is not version 1 (RFC 6376 3.5)"));
  DkimSignature s;
  const std::string_view algorithm = *tags.find("a");
  if (algorithm == "rsa-sha1") return problem("a=rsa-sha1 is no longer accepted (RFC 8301 3.1)");
  std::optional<DkimAlgorithm> a = parse_dkim_algorithm(algorithm);
  if (!a) return problem(absl::StrCat("a=", av(algorithm), " is not an algorithm smtplab verifies (RFC 6376 3.3, RFC 8463)"));
  s.algorithm = *a;
  s.b_text = without_whitespace(*tags.find("b"));
  s.bh_text = without_whitespace(*tags.find("bh"));
  std::optional<std::string> b = decode_base64(s.b_text);
  std::optional<std::string> bh = decode_base64(s.bh_text);
  if (!b || b->empty()) return problem("b= is not base64 (RFC 6376 3.5)");
  if (!bh || bh->size() != 32) return problem("bh= is not the base64 of a SHA-256 hash (RFC 6376 3.5)");
  s.signature = std::move(*b);
  s.body_hash = std::move(*bh);
  if (auto c = tags.find("c")) {
    std::optional<CanonicalizationPair> pair = parse_canonicalization(*c);
    if (!pair) return problem(absl::StrCat("c=", av(*c), " is not header/body of simple or relaxed (RFC 6376 3.5)"));
    s.canonicalization = *pair;
  }
  s.domain = absl::AsciiStrToLower(av(*tags.find("d")));
  s.selector = std::string(*tags.find("s"));
  if (s.domain.empty() || s.selector.empty()) return problem("d= and s= must not be empty (RFC 6376 3.5)");
  bool signs_from = false;
  for (absl::string_view name : absl::StrSplit(av(*tags.find("h")), ':')) {
    std::string field = without_whitespace(sv(name));
    if (field.empty()) return problem("h= has an empty field name (RFC 6376 3.5)");
    if (absl::EqualsIgnoreCase(field, "from")) signs_from = true;
    s.signed_fields.push_back(std::move(field));
  }
  if (!signs_from) return problem("h= does not include From, which every signature must (RFC 6376 5.4)");
  if (auto i = tags.find("i")) {
    s.identity = std::string(*i);
    const std::size_t at = s.identity.rfind('@');
    if (at == std::string::npos) return problem("i= has no '@' (RFC 6376 3.5)");
    const std::string i_domain = absl::AsciiStrToLower(s.identity.substr(at + 1));
    if (i_domain != s.domain && !absl::EndsWith(i_domain, absl::StrCat(".", s.domain))) {
      return problem(absl::StrCat("i= is in ", i_domain, ", not in d=", s.domain, " or below it (RFC 6376 6.1.1)"));
    }
  } else {
    s.identity = absl::StrCat("@", s.domain);
  }
  if (auto l = tags.find("l")) {
    s.body_length = parse_number<std::uint64_t>(*l, 76);
    if (!s.body_length) return problem(absl::StrCat("l=", av(*l), " is not a number of octets (RFC 6376 3.5)"));
  }
  if (auto t = tags.find("t")) {
    s.timestamp = parse_number<std::int64_t>(*t, 12);
    if (!s.timestamp) return problem(absl::StrCat("t=", av(*t), " is not a time (RFC 6376 3.5)"));
  }
  if (auto x = tags.find("x")) {
    s.expiration = parse_number<std::int64_t>(*x, 12);
    if (!s.expiration) return problem(absl::StrCat("x=", av(*x), " is not a time (RFC 6376 3.5)"));
    if (s.timestamp && *s.expiration < *s.timestamp) {
      return problem("x= is before t=: the signature expired before it was made (RFC 6376 3.5)");
    }
  }
  if (auto q = tags.find("q")) {
    bool dns = false;
    for (absl::string_view method : absl::StrSplit(av(*q), ':')) {
      if (absl::StripAsciiWhitespace(method) == "dns/txt") dns = true;
    }
    if (!dns) return problem(absl::StrCat("q=", av(*q), " offers no dns/txt key query (RFC 6376 3.5)"));
  }
  return s;
}

std::variant<DkimKey, DkimSyntaxError> parse_dkim_key(std::string_view record) {
  std::variant<TagList, TagListError> parsed = parse_tag_list(record);
  if (const auto* e = std::get_if<TagListError>(&parsed)) {
    return problem(absl::StrCat("key record, column ", e->column, ": ", e->problem));
  }
  const TagList& tags = std::get<TagList>(parsed);
  DkimKey key;
  if (auto v = tags.find("v")) {
    if (*v != "DKIM1") return problem(absl::StrCat("key record v=", av(*v), " is not DKIM1 (RFC 6376 3.6.1)"));
    if (tags.tags().front().name != "v") return problem("key record v= must come first (RFC 6376 3.6.1)");
  }
  if (auto k = tags.find("k")) {
    if (*k == "rsa") {
      key.type = DkimKeyType::kRsa;
    } else if (*k == "ed25519") {
      key.type = DkimKeyType::kEd25519;
    } else {
      return problem(absl::StrCat("key type k=", av(*k), " is unknown (RFC 6376 3.6.1, RFC 8463 4.2)"));
    }
  }
  std::optional<std::string_view> p = tags.find("p");
  if (!p) return problem("the key record has no p= (RFC 6376 3.6.1)");
  std::string key_text = without_whitespace(*p);
  if (!key_text.empty() && !absl::Base64Unescape(av(key_text), &key.public_key)) {
    return problem("p= is not base64 (RFC 6376 3.6.1)");
  }
  if (auto h = tags.find("h")) {
    for (absl::string_view hash : absl::StrSplit(av(*h), ':')) {
      key.hashes.push_back(std::string(absl::StripAsciiWhitespace(hash)));
    }
  }
  if (auto s = tags.find("s")) {
    bool email = false;
    for (absl::string_view service : absl::StrSplit(av(*s), ':')) {
      service = absl::StripAsciiWhitespace(service);
      if (service == "*" || service == "email") email = true;
    }
    if (!email) return problem(absl::StrCat("the key's s=", av(*s), " is not for email (RFC 6376 3.6.1)"));
  }
  if (auto t = tags.find("t")) {
    for (absl::string_view flag : absl::StrSplit(av(*t), ':')) {
      flag = absl::StripAsciiWhitespace(flag);
      if (flag == "y") key.testing = true;
      if (flag == "s") key.strict_identity = true;
    }
  }
  return key;
}

std::string without_signature_value(std::string_view raw_field) {
  // Find "b=" as a tag of its own: at the start of the value or after ';',
  // with only white space between.
  const std::size_t colon = raw_field.find(':');
  std::size_t at = colon == std::string_view::npos ? 0 : colon + 1;
  while (at < raw_field.size()) {
    std::size_t start = at;
    while (start < raw_field.size() && std::string_view(" \t\r\n").find(raw_field[start]) != std::string_view::npos) {
      ++start;
    }
    std::size_t name_end = start;
    while (name_end < raw_field.size() && (absl::ascii_isalnum(static_cast<unsigned char>(raw_field[name_end])) ||
                                           raw_field[name_end] == '_')) {
      ++name_end;
    }
    std::size_t eq = name_end;
    while (eq < raw_field.size() && std::string_view(" \t\r\n").find(raw_field[eq]) != std::string_view::npos) ++eq;
    std::size_t end = raw_field.find(';', at);
    if (end == std::string_view::npos) end = raw_field.size();
    if (raw_field.substr(start, name_end - start) == "b" && eq < raw_field.size() && raw_field[eq] == '=') {
      std::string out(raw_field.substr(0, eq + 1));
      // Keep a final CRLF that ended the field, if the value ran to it.
      std::string_view rest = raw_field.substr(end);
      if (end == raw_field.size() && raw_field.ends_with("\r\n")) rest = "\r\n";
      out += rest;
      return out;
    }
    at = end + 1;
  }
  return std::string(raw_field);
}

}  // namespace smtplab::auth
