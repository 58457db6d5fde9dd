#include "agents/smtp/command.hpp"

#include "agents/smtp/utf8.hpp"

#include <algorithm>
#include <array>

#include "base/absl_string_view.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace smtplab::smtp {
namespace {

struct VerbName {
  Verb verb;
  std::string_view name;
};
constexpr std::array<VerbName, 19> kVerbs{{
    {Verb::kEhlo, "EHLO"}, {Verb::kHelo, "HELO"}, {Verb::kMail, "MAIL"},
    {Verb::kRcpt, "RCPT"}, {Verb::kData, "DATA"}, {Verb::kBdat, "BDAT"},
    {Verb::kRset, "RSET"}, {Verb::kVrfy, "VRFY"}, {Verb::kExpn, "EXPN"},
    {Verb::kHelp, "HELP"}, {Verb::kNoop, "NOOP"}, {Verb::kQuit, "QUIT"},
    {Verb::kStarttls, "STARTTLS"}, {Verb::kAuth, "AUTH"}, {Verb::kLhlo, "LHLO"},
    {Verb::kObsolete, "SEND"}, {Verb::kObsolete, "SOML"}, {Verb::kObsolete, "SAML"},
    {Verb::kObsolete, "TURN"},
}};

// Errors from the address parser count columns from the start of the text it
// saw; this moves "column N:" to count from the start of the command line.
std::string shift_column(std::string message, std::size_t offset) {
  std::size_t col = 0;
  if (absl::StartsWith(message, "column ")) {
    const auto colon = message.find(':');
    if (colon != std::string::npos && absl::SimpleAtoi(message.substr(7, colon - 7), &col)) {
      return absl::StrCat("column ", col + offset, message.substr(colon));
    }
  }
  return message;
}

CommandError failure(int code, std::string_view enhanced, std::string message) {
  return CommandError{code, std::string(enhanced), std::move(message)};
}

bool is_keyword(std::string_view s) {
  if (s.empty() || !absl::ascii_isalnum(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// esmtp-value = 1*(%d33-60 / %d62-126), plus UTF-8 with SMTPUTF8 (RFC 6531 3.3).
bool is_esmtp_value(std::string_view s, bool utf8) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    const bool ok = (c >= 33 && c <= 126 && c != '=') || (utf8 && c >= 0x80);
    if (!ok) return false;
  }
  return !utf8 || is_valid_utf8(s);
}

// Finds the end of "<...>" starting at `from`, skipping '>' inside a quoted
// local part. Returns npos when there is no closing bracket.
std::size_t find_path_end(std::string_view s, std::size_t from) {
  bool quoted = false;
  for (std::size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == '>' && !quoted) {
      return i;
    }
  }
  return std::string_view::npos;
}

struct Parameter {
  std::string keyword;  // upper-cased
  std::string value;    // empty when the parameter has none
  bool has_value = false;
  std::size_t column = 0;
};

// Splits "KEY=VALUE KEY2" after a path into parameters (RFC 5321 4.1.2).
std::optional<CommandError> split_parameters(std::string_view text, std::size_t offset, bool utf8,
                                             std::vector<Parameter>& out) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ' ') {
      ++i;
      continue;
    }
    std::size_t end = text.find(' ', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(i, end - i);
    Parameter p;
    p.column = offset + i + 1;
    const auto eq = word.find('=');
    const std::string_view key = word.substr(0, eq);
    if (!is_keyword(key)) {
      return CommandError{501, "5.5.4", absl::StrCat("column ", p.column, ": expected an ESMTP parameter keyword, found \"", av(key), "\"")};
    }
    p.keyword = absl::AsciiStrToUpper(av(key));
    if (eq != std::string_view::npos) {
      p.has_value = true;
      p.value = std::string(word.substr(eq + 1));
      if (!is_esmtp_value(p.value, utf8)) {
        return CommandError{501, "5.5.4", absl::StrCat("column ", p.column, ": bad value for parameter ", p.keyword)};
      }
    }
    for (const Parameter& seen : out) {
      if (seen.keyword == p.keyword) {
        return CommandError{501, "5.5.4", absl::StrCat("column ", p.column, ": parameter ", p.keyword, " given twice")};
      }
    }
    out.push_back(std::move(p));
    i = end;
  }
  return std::nullopt;
}

CommandError bad_value(const Parameter& p, std::string_view why) {
  return CommandError{501, "5.5.4", absl::StrCat("column ", p.column, ": ", p.keyword, " ", av(why))};
}

// A count of octets as SIZE (RFC 1870 6: size-value = 1*20DIGIT) and BDAT
// (RFC 3030 2: chunk-size = 1*DIGIT) write it: digits only, no sign, no
// white space. A well-formed number too large for 64 bits is a size problem,
// not a syntax error, so it saturates at 2^64-1 and meets the size limit.
std::optional<std::uint64_t> octet_count(std::string_view digits) {
  if (digits.empty() || digits.size() > 20) return std::nullopt;
  std::uint64_t n = 0;
  for (const char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - d) / 10) return UINT64_MAX;
    n = n * 10 + d;
  }
  return n;
}

// 555: "MAIL FROM/RCPT TO parameters not recognized or not implemented" (RFC 5321 4.2.3).
CommandError unknown_parameter(const Parameter& p) {
  return CommandError{555, "5.5.4", absl::StrCat("column ", p.column, ": parameter ", p.keyword, " not recognized")};
}

std::optional<CommandError> apply_mail_parameter(const Parameter& p, MailParameters& mail) {
  if (p.keyword == "SIZE") {  // RFC 1870 6: size-value = 1*20DIGIT
    const auto n = p.has_value ? octet_count(p.value) : std::nullopt;
    if (!n) return bad_value(p, "needs a decimal number of octets (RFC 1870)");
    mail.size = *n;
  } else if (p.keyword == "BODY") {
    const std::string v = absl::AsciiStrToUpper(p.value);
    if (v == "7BIT") mail.body = BodyType::k7Bit;
    else if (v == "8BITMIME") mail.body = BodyType::k8BitMime;
    else if (v == "BINARYMIME") mail.body = BodyType::kBinaryMime;
    else return bad_value(p, "must be 7BIT, 8BITMIME or BINARYMIME (RFC 6152, RFC 3030)");
  } else if (p.keyword == "SMTPUTF8") {
    if (p.has_value) return bad_value(p, "takes no value (RFC 6531 3.4)");
    mail.smtputf8 = true;
  } else if (p.keyword == "RET") {
    const std::string v = absl::AsciiStrToUpper(p.value);
    if (v != "FULL" && v != "HDRS") return bad_value(p, "must be FULL or HDRS (RFC 3461 4.3)");
    mail.ret = v;
  } else if (p.keyword == "ENVID" || p.keyword == "AUTH") {
    auto decoded = xtext_decode(p.value);
    if (!p.has_value || !decoded.ok()) return bad_value(p, "needs an xtext value (RFC 3461 4)");
    (p.keyword == "ENVID" ? mail.envid : mail.auth) = *std::move(decoded);
  } else {
    return unknown_parameter(p);
  }
  return std::nullopt;
}

std::optional<CommandError> apply_rcpt_parameter(const Parameter& p, RcptParameters& rcpt) {
  if (p.keyword == "NOTIFY") {  // RFC 3461 4.1
    std::vector<std::string> values = absl::StrSplit(absl::AsciiStrToUpper(p.value), ',');
    for (const std::string& v : values) {
      if (v != "NEVER" && v != "SUCCESS" && v != "FAILURE" && v != "DELAY") {
        return bad_value(p, "must be NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1)");
      }
      if (v == "NEVER" && values.size() != 1) return bad_value(p, "NEVER cannot be combined (RFC 3461 4.1)");
    }
    rcpt.notify = std::move(values);
  } else if (p.keyword == "ORCPT") {  // RFC 3461 4.2: addr-type ";" xtext
    const auto semi = p.value.find(';');
    if (semi == std::string::npos || semi == 0) return bad_value(p, "must be addr-type;xtext (RFC 3461 4.2)");
    auto decoded = xtext_decode(std::string_view(p.value).substr(semi + 1));
    if (!decoded.ok()) return bad_value(p, "has invalid xtext (RFC 3461 4)");
    rcpt.orcpt = absl::StrCat(p.value.substr(0, semi), ";", *decoded);
  } else {
    return unknown_parameter(p);
  }
  return std::nullopt;
}

// MAIL FROM:<path> [params] and RCPT TO:<path> [params].
std::optional<CommandError> parse_path_command(Command& command, std::size_t arg_offset, const CommandSyntax& syntax) {
  const bool is_mail = command.verb == Verb::kMail;
  const std::string_view prefix = is_mail ? "FROM:" : "TO:";
  const std::string_view arg = command.argument;
  const std::string usage = is_mail ? "Syntax: MAIL FROM:<address> [parameters]"
                                    : "Syntax: RCPT TO:<address> [parameters]";
  if (!absl::StartsWithIgnoreCase(av(arg), av(prefix))) {
    return failure(501, "5.5.4", usage);
  }
  std::size_t i = prefix.size();
  // RFC 5321 has no space after the colon, but many clients send one and
  // Postfix (strict_rfc821_envelopes = no) accepts it; so do we.
  while (i < arg.size() && arg[i] == ' ') ++i;
  if (i >= arg.size() || arg[i] != '<') {
    return failure(501, "5.5.4",
                   absl::StrCat("column ", arg_offset + i + 1, ": expected '<' starting the path; ", usage));
  }
  const std::size_t path_end = find_path_end(arg, i + 1);
  const std::string_view path_enhanced = is_mail ? "5.1.7" : "5.1.3";
  if (path_end == std::string_view::npos) {
    return failure(501, path_enhanced,
                   absl::StrCat("column ", arg_offset + arg.size() + 1, ": expected '>' closing the path"));
  }
  const std::string_view path_text = arg.substr(i, path_end - i + 1);
  if (!syntax.allow_utf8 && has_non_ascii(path_text)) {
    // RFC 6531 3.5: non-ASCII addresses need SMTPUTF8.
    return failure(553, "5.6.7",
                   "non-ASCII address without SMTPUTF8 (RFC 6531 3.5)");
  }
  AddressSyntax address_syntax{.allow_utf8 = syntax.allow_utf8, .allow_null = is_mail, .allow_postmaster = !is_mail};
  auto path = parse_path(path_text, address_syntax);
  if (!path.ok()) {
    return failure(501, path_enhanced,
                   shift_column(std::string(path.status().message()), arg_offset + i));
  }
  command.path = *std::move(path);

  std::vector<Parameter> params;
  const std::size_t params_start = path_end + 1;
  const std::string_view rest = arg.substr(params_start);
  if (!rest.empty() && rest[0] != ' ') {
    return failure(501, "5.5.4",
                   absl::StrCat("column ", arg_offset + params_start + 1, ": expected a space before parameters"));
  }
  if (auto e = split_parameters(rest, arg_offset + params_start, syntax.allow_utf8, params)) {
    return e;
  }
  for (const Parameter& p : params) {
    auto e = is_mail ? apply_mail_parameter(p, command.mail) : apply_rcpt_parameter(p, command.rcpt);
    if (e) return e;
  }
  return std::nullopt;
}

std::string_view usage_for(Verb verb) {
  switch (verb) {
    case Verb::kEhlo: return "Syntax: EHLO hostname";
    case Verb::kHelo: return "Syntax: HELO hostname";
    case Verb::kLhlo: return "Syntax: LHLO hostname";
    case Verb::kBdat: return "Syntax: BDAT chunk-size [LAST]";
    case Verb::kAuth: return "Syntax: AUTH mechanism [initial-response]";
    case Verb::kVrfy: return "Syntax: VRFY address";
    case Verb::kExpn: return "Syntax: EXPN list";
    default: return "Syntax error in parameters";
  }
}

}  // namespace

std::string_view verb_name(Verb verb) {
  for (const auto& v : kVerbs) {
    if (v.verb == verb) return v.name;
  }
  return "UNKNOWN";
}

namespace {

// A verb of up to eight octets, upper-cased (ASCII) and packed into one
// integer, so that finding a command's verb is one comparison per verb and
// no call: every command line of every session starts here.
constexpr std::uint64_t pack_upper(std::string_view word) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < word.size(); ++i) {
    auto c = static_cast<unsigned char>(word[i]);
    if (c >= 'a' && c <= 'z') c = static_cast<unsigned char>(c - ('a' - 'A'));
    key |= static_cast<std::uint64_t>(c) << (8 * i);
  }
  return key;
}

constexpr std::size_t kLongestVerb = 8;  // STARTTLS

struct PackedVerb {
  Verb verb;
  std::size_t size;
  std::uint64_t key;
};
constexpr std::array<PackedVerb, kVerbs.size()> pack_verbs() {
  std::array<PackedVerb, kVerbs.size()> out{};
  for (std::size_t i = 0; i < kVerbs.size(); ++i) {
    out[i] = {kVerbs[i].verb, kVerbs[i].name.size(), pack_upper(kVerbs[i].name)};
  }
  return out;
}
constexpr auto kPackedVerbs = pack_verbs();
static_assert(std::all_of(kVerbs.begin(), kVerbs.end(), [](const VerbName& v) { return v.name.size() <= kLongestVerb; }));

}  // namespace

Verb verb_from_word(std::string_view word) {
  if (word.empty() || word.size() > kLongestVerb) return Verb::kUnknown;
  const std::uint64_t key = pack_upper(word);
  for (const auto& v : kPackedVerbs) {
    // The size too: "MAIL\0" packs as "MAIL" does.
    if (v.key == key && v.size == word.size()) return v.verb;
  }
  return Verb::kUnknown;
}

namespace {

// Fills `command` in place (a Command is large: moving it out of helpers
// cost a third of parsing a line) and says what is wrong, if anything.
std::optional<CommandError> parse_into(Command& command, std::string_view line, const CommandSyntax& syntax) {
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  command.verb_text = std::string(word);
  command.verb = verb_from_word(word);
  std::size_t arg_offset = space == std::string_view::npos ? line.size() : space + 1;
  std::string_view arg = line.substr(arg_offset);
  command.argument = std::string(arg);
  if (command.verb == Verb::kUnknown) {
    return std::nullopt;
  }
  // Trailing spaces are a common client slip with no meaning; drop them.
  while (!arg.empty() && arg.back() == ' ') arg.remove_suffix(1);

  switch (command.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
    case Verb::kLhlo: {
      if (arg.empty()) return failure(501, "5.5.4", std::string(usage_for(command.verb)));
      if (auto s = validate_domain_or_literal(arg, syntax.allow_utf8); !s.ok()) {
        return failure(501, "5.5.4",
                       absl::StrCat(shift_column(std::string(s.message()), arg_offset), "; ",
                                    av(usage_for(command.verb))));
      }
      command.domain = std::string(arg);
      break;
    }
    case Verb::kMail:
    case Verb::kRcpt:
      return parse_path_command(command, arg_offset, syntax);
    case Verb::kData:
    case Verb::kRset:
    case Verb::kQuit:
    case Verb::kStarttls:
      if (!arg.empty()) {
        return failure(501, "5.5.4",
                       absl::StrCat("Syntax: ", av(verb_name(command.verb)), " takes no parameters"));
      }
      break;
    case Verb::kVrfy:
    case Verb::kExpn:
      if (arg.empty()) return failure(501, "5.5.4", std::string(usage_for(command.verb)));
      break;
    case Verb::kBdat: {
      std::vector<absl::string_view> words = absl::StrSplit(av(arg), ' ', absl::SkipEmpty());
      const auto size = words.empty() ? std::nullopt : octet_count(sv(words[0]));
      const bool ok_last = words.size() == 1 || (words.size() == 2 && absl::EqualsIgnoreCase(words[1], "LAST"));
      if (!size || !ok_last) return failure(501, "5.5.4", std::string(usage_for(Verb::kBdat)));
      command.chunk_size = *size;
      command.last_chunk = words.size() == 2;
      break;
    }
    case Verb::kAuth: {
      std::vector<absl::string_view> words = absl::StrSplit(av(arg), ' ', absl::SkipEmpty());
      if (words.empty() || words.size() > 2 || words[0].size() > 20 || !is_keyword(sv(words[0]))) {
        return failure(501, "5.5.4", std::string(usage_for(Verb::kAuth)));
      }
      command.mechanism = absl::AsciiStrToUpper(words[0]);
      if (words.size() == 2) command.initial_response = std::string(words[1]);
      break;
    }
    default:  // HELP, NOOP take any text; obsolete verbs are answered by the session
      break;
  }
  return std::nullopt;
}

}  // namespace

CommandParse parse_command(std::string_view line, const CommandSyntax& syntax) {
  CommandParse result;
  result.error = parse_into(result.command, line, syntax);
  return result;
}

std::string format_command(const Command& c) {
  std::string out(verb_name(c.verb));
  switch (c.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
    case Verb::kLhlo:
      absl::StrAppend(&out, " ", c.domain);
      break;
    case Verb::kMail:
      absl::StrAppend(&out, " FROM:", c.path.to_string());
      if (c.mail.size) absl::StrAppend(&out, " SIZE=", *c.mail.size);
      if (c.mail.body) {
        absl::StrAppend(&out, " BODY=",
                        *c.mail.body == BodyType::k7Bit       ? "7BIT"
                        : *c.mail.body == BodyType::k8BitMime ? "8BITMIME"
                                                              : "BINARYMIME");
      }
      if (c.mail.smtputf8) out += " SMTPUTF8";
      if (c.mail.ret) absl::StrAppend(&out, " RET=", *c.mail.ret);
      if (c.mail.envid) absl::StrAppend(&out, " ENVID=", xtext_encode(*c.mail.envid));
      if (c.mail.auth) absl::StrAppend(&out, " AUTH=", xtext_encode(*c.mail.auth));
      break;
    case Verb::kRcpt:
      absl::StrAppend(&out, " TO:", c.path.to_string());
      if (!c.rcpt.notify.empty()) absl::StrAppend(&out, " NOTIFY=", absl::StrJoin(c.rcpt.notify, ","));
      if (c.rcpt.orcpt) {
        const auto semi = c.rcpt.orcpt->find(';');
        absl::StrAppend(&out, " ORCPT=", c.rcpt.orcpt->substr(0, semi), ";",
                        xtext_encode(semi == std::string::npos ? "" : c.rcpt.orcpt->substr(semi + 1)));
      }
      break;
    case Verb::kBdat:
      absl::StrAppend(&out, " ", c.chunk_size, c.last_chunk ? " LAST" : "");
      break;
    case Verb::kAuth:
      absl::StrAppend(&out, " ", c.mechanism);
      if (c.initial_response) absl::StrAppend(&out, " ", *c.initial_response);
      break;
    default:
      if (!c.argument.empty()) absl::StrAppend(&out, " ", c.argument);
      break;
  }
  out += "\r\n";
  return out;
}

Command make_ehlo(std::string_view domain) {
  Command c;
  c.verb = Verb::kEhlo;
  c.domain = std::string(domain);
  return c;
}

Command make_lhlo(std::string_view domain) {
  Command c = make_ehlo(domain);
  c.verb = Verb::kLhlo;
  return c;
}

Command make_helo(std::string_view domain) {
  Command c = make_ehlo(domain);
  c.verb = Verb::kHelo;
  return c;
}

Command make_mail(const Path& from, const MailParameters& params) {
  Command c;
  c.verb = Verb::kMail;
  c.path = from;
  c.mail = params;
  return c;
}

Command make_rcpt(const Path& to, const RcptParameters& params) {
  Command c;
  c.verb = Verb::kRcpt;
  c.path = to;
  c.rcpt = params;
  return c;
}

Command make_simple(Verb verb, std::string_view argument) {
  Command c;
  c.verb = verb;
  c.argument = std::string(argument);
  return c;
}

Command make_bdat(std::uint64_t size, bool last) {
  Command c;
  c.verb = Verb::kBdat;
  c.chunk_size = size;
  c.last_chunk = last;
  return c;
}

Command make_auth(std::string_view mechanism, std::optional<std::string> initial_response) {
  Command c;
  c.verb = Verb::kAuth;
  c.mechanism = std::string(mechanism);
  c.initial_response = std::move(initial_response);
  return c;
}

std::string xtext_encode(std::string_view raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (c >= 33 && c <= 126 && c != '+' && c != '=') {
      out += static_cast<char>(c);
    } else {
      constexpr std::string_view kHex = "0123456789ABCDEF";
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

absl::StatusOr<std::string> xtext_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = text[i];
    if (c == '+') {
      auto hex = [](unsigned char h) { return (h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'); };
      if (i + 2 >= text.size() || !hex(text[i + 1]) || !hex(text[i + 2])) {
        return absl::InvalidArgumentError("xtext: '+' needs two upper-case hex digits");
      }
      auto value = [](unsigned char h) { return h <= '9' ? h - '0' : h - 'A' + 10; };
      out += static_cast<char>(value(text[i + 1]) * 16 + value(text[i + 2]));
      i += 2;
    } else if (c >= 33 && c <= 126 && c != '=') {
      out += static_cast<char>(c);
    } else {
      return absl::InvalidArgumentError("xtext: character outside 33..126");
    }
  }
  return out;
}

}  // namespace smtplab::smtp
