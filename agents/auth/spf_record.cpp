#include "agents/auth/spf_record.hpp"

#include "absl/strings/ascii.h"
#include "base/absl_string_view.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/auth/spf_macro.hpp"

namespace smtplab::auth {

bool is_spf_record(std::string_view txt) {
  if (txt.size() < 6 || !absl::EqualsIgnoreCase(av(txt.substr(0, 6)), "v=spf1")) return false;
  return txt.size() == 6 || txt[6] == ' ';
}

std::string_view spf_mechanism_name(SpfMechanismKind kind) {
  switch (kind) {
    case SpfMechanismKind::kAll: return "all";
    case SpfMechanismKind::kInclude: return "include";
    case SpfMechanismKind::kA: return "a";
    case SpfMechanismKind::kMx: return "mx";
    case SpfMechanismKind::kPtr: return "ptr";
    case SpfMechanismKind::kIp4: return "ip4";
    case SpfMechanismKind::kIp6: return "ip6";
    case SpfMechanismKind::kExists: return "exists";
  }
  return "?";
}

bool counts_as_lookup(SpfMechanismKind kind) {
  switch (kind) {
    case SpfMechanismKind::kInclude:
    case SpfMechanismKind::kA:
    case SpfMechanismKind::kMx:
    case SpfMechanismKind::kPtr:
    case SpfMechanismKind::kExists:
      return true;
    default:
      return false;
  }
}

namespace {

std::optional<SpfMechanismKind> mechanism_kind(std::string_view name) {
  for (SpfMechanismKind kind : {SpfMechanismKind::kAll, SpfMechanismKind::kInclude, SpfMechanismKind::kA,
                                SpfMechanismKind::kMx, SpfMechanismKind::kPtr, SpfMechanismKind::kIp4,
                                SpfMechanismKind::kIp6, SpfMechanismKind::kExists}) {
    if (absl::EqualsIgnoreCase(av(name), av(spf_mechanism_name(kind)))) return kind;
  }
  return std::nullopt;
}

// ip4-cidr-length and ip6-cidr-length: "0", or 1-9 followed by digits, at most `max`.
std::optional<int> parse_prefix(std::string_view digits, int max) {
  if (digits.empty() || digits.size() > 3) return std::nullopt;
  if (digits.size() > 1 && digits[0] == '0') return std::nullopt;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int value = 0;
  if (!absl::SimpleAtoi(av(digits), &value) || value > max) return std::nullopt;
  return value;
}

// The modifier name of RFC 7208 12: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ).
std::size_t name_length(std::string_view term) {
  if (term.empty() || !absl::ascii_isalpha(static_cast<unsigned char>(term[0]))) return 0;
  std::size_t n = 1;
  while (n < term.size()) {
    const unsigned char c = static_cast<unsigned char>(term[n]);
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') break;
    ++n;
  }
  return n;
}

class TermParser {
 public:
  TermParser(std::string_view term, std::size_t column) : term_(term), column_(column) {}

  SpfSyntaxError error(std::string problem) const { return {std::string(term_), column_, std::move(problem)}; }

  // A directive: [qualifier] mechanism.
  std::variant<SpfMechanism, SpfSyntaxError> directive() const {
    SpfMechanism m;
    m.text = std::string(term_);
    std::string_view rest = term_;
    switch (rest[0]) {
      case '+': case '-': case '~': case '?':
        m.qualifier = static_cast<SpfQualifier>(rest[0]);
        rest.remove_prefix(1);
        break;
      default:
        break;
    }
    const std::size_t name_end = rest.find_first_of(":/");
    const std::string_view name = rest.substr(0, name_end);
    std::optional<SpfMechanismKind> kind = mechanism_kind(name);
    if (!kind) {
      return error(absl::StrCat("'", av(name), "' is not a mechanism (RFC 7208 5: all, include, a, mx, ptr, ip4, ip6, exists)"));
    }
    m.kind = *kind;
    std::string_view argument = name_end == std::string_view::npos ? std::string_view() : rest.substr(name_end);
    switch (m.kind) {
      case SpfMechanismKind::kAll:
        if (!argument.empty()) return error("'all' takes no argument (RFC 7208 5.1)");
        return m;
      case SpfMechanismKind::kInclude:
      case SpfMechanismKind::kExists:
        if (argument.empty() || argument[0] != ':') {
          return error(absl::StrCat("'", av(name), "' needs ':' and a domain (RFC 7208 5.2, 5.7)"));
        }
        m.domain_spec = std::string(argument.substr(1));
        if (auto problem = domain_spec_error(m.domain_spec)) return error(*problem);
        return m;
      case SpfMechanismKind::kPtr:
        if (!argument.empty()) {
          if (argument[0] != ':') return error("'ptr' takes ':' and a domain, nothing else (RFC 7208 5.5)");
          m.domain_spec = std::string(argument.substr(1));
          if (auto problem = domain_spec_error(m.domain_spec)) return error(*problem);
        }
        return m;
      case SpfMechanismKind::kA:
      case SpfMechanismKind::kMx:
        return host_mechanism(std::move(m), argument);
      case SpfMechanismKind::kIp4:
      case SpfMechanismKind::kIp6:
        return ip_mechanism(std::move(m), argument);
    }
    return m;
  }

 private:
  // a and mx: [":" domain-spec] [dual-cidr-length] (RFC 7208 5.3, 5.4).
  // A domain-spec may itself hold '/' (macro-literal), so the prefix lengths
  // are what ends the argument: "//digits", "/digits", or both in that order.
  std::variant<SpfMechanism, SpfSyntaxError> host_mechanism(SpfMechanism m, std::string_view argument) const {
    auto take_suffix = [&argument](std::string_view slashes) -> std::optional<std::string_view> {
      std::size_t digits = 0;
      while (digits < argument.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(argument[argument.size() - 1 - digits]))) {
        ++digits;
      }
      if (digits == 0 || argument.size() < digits + slashes.size()) return std::nullopt;
      const std::size_t start = argument.size() - digits - slashes.size();
      if (argument.substr(start, slashes.size()) != slashes) return std::nullopt;
      std::string_view value = argument.substr(start + slashes.size());
      argument = argument.substr(0, start);
      return value;
    };
    if (std::optional<std::string_view> v6 = take_suffix("//")) {
      std::optional<int> prefix = parse_prefix(*v6, 128);
      if (!prefix) return error(absl::StrCat("'//", av(*v6), "' is not an IPv6 prefix length 0-128 (RFC 7208 5.6)"));
      m.ip6_prefix = *prefix;
    }
    if (!argument.ends_with("//")) {
      if (std::optional<std::string_view> v4 = take_suffix("/")) {
        std::optional<int> prefix = parse_prefix(*v4, 32);
        if (!prefix) return error(absl::StrCat("'/", av(*v4), "' is not an IPv4 prefix length 0-32 (RFC 7208 5.6)"));
        m.ip4_prefix = *prefix;
      }
    }
    if (argument.empty()) return m;
    if (argument[0] != ':') {
      return error(absl::StrCat("'", av(argument), "' is neither ':' and a domain nor a prefix length (RFC 7208 5.3)"));
    }
    m.domain_spec = std::string(argument.substr(1));
    if (auto problem = domain_spec_error(m.domain_spec)) return error(*problem);
    return m;
  }

  // ip4:network[/len] and ip6:network[/len] (RFC 7208 5.6).
  std::variant<SpfMechanism, SpfSyntaxError> ip_mechanism(SpfMechanism m, std::string_view argument) const {
    const bool v6 = m.kind == SpfMechanismKind::kIp6;
    if (argument.empty() || argument[0] != ':') {
      return error(absl::StrCat("'", av(spf_mechanism_name(m.kind)), "' needs ':' and a network (RFC 7208 5.6)"));
    }
    argument.remove_prefix(1);
    const std::size_t slash = argument.find('/');
    const std::string_view address = argument.substr(0, slash);
    m.network = v6 ? IpAddress::parse_v6(address) : IpAddress::parse_v4(address);
    if (!m.network) {
      return error(absl::StrCat("'", av(address), "' is not an ", v6 ? "IPv6" : "IPv4", " address (RFC 7208 5.6)"));
    }
    if (slash != std::string_view::npos) {
      std::optional<int> prefix = parse_prefix(argument.substr(slash + 1), v6 ? 128 : 32);
      if (!prefix) {
        return error(absl::StrCat("'", av(argument.substr(slash)), "' is not a prefix length 0-", v6 ? 128 : 32,
                                  " (RFC 7208 5.6)"));
      }
      (v6 ? m.ip6_prefix : m.ip4_prefix) = *prefix;
    }
    return m;
  }

  std::string_view term_;
  std::size_t column_;
};

}  // namespace

SpfRecordParse parse_spf_record(std::string_view text) {
  SpfRecord record;
  if (!is_spf_record(text)) {
    return SpfSyntaxError{std::string(text.substr(0, 6)), 1, "an SPF record starts with 'v=spf1' (RFC 7208 4.5)"};
  }
  // Terms are separated by one or more spaces, and only spaces (4.6.1).
  std::size_t at = 6;
  while (at < text.size()) {
    if (text[at] == ' ') {
      ++at;
      continue;
    }
    const std::size_t end = std::min(text.find(' ', at), text.size());
    const std::string_view term = text.substr(at, end - at);
    const std::size_t column = at + 1;
    at = end;
    TermParser parser(term, column);
    const std::size_t name = name_length(term);
    if (name > 0 && name < term.size() && term[name] == '=') {
      SpfModifier modifier{absl::AsciiStrToLower(av(term.substr(0, name))), std::string(term.substr(name + 1))};
      const bool known = modifier.name == "redirect" || modifier.name == "exp";
      std::optional<std::string> problem = known ? domain_spec_error(modifier.value)
                                                 : macro_string_error(modifier.value, MacroScope::kDomainSpec);
      if (problem) return parser.error(*problem);
      if (modifier.name == "redirect" || modifier.name == "exp") {
        std::optional<std::string>& slot = modifier.name == "redirect" ? record.redirect : record.exp;
        if (slot) {
          return parser.error(absl::StrCat("'", modifier.name, "' appears twice (RFC 7208 6)"));
        }
        slot = std::move(modifier.value);
      } else {
        record.unknown.push_back(std::move(modifier));
      }
      continue;
    }
    std::variant<SpfMechanism, SpfSyntaxError> mechanism = parser.directive();
    if (auto* failed = std::get_if<SpfSyntaxError>(&mechanism)) return std::move(*failed);
    record.mechanisms.push_back(std::move(std::get<SpfMechanism>(mechanism)));
  }
  return record;
}

}  // namespace smtplab::auth
