#include "agents/auth/received_spf.hpp"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {
namespace {

// A value is written bare when it is a dot-atom, quoted otherwise (RFC 7208
// 9.1, key-value-pair: dot-atom / quoted-string).
std::string value_text(std::string_view value) {
  bool atom = !value.empty() && value.front() != '.' && value.back() != '.';
  for (unsigned char c : value) {
    const bool atext = absl::ascii_isalnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~.").find(c) != std::string_view::npos;
    if (!atext) atom = false;
  }
  if (atom && value.find("..") == std::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\r' || c == '\n') continue;
    out += c;
  }
  out += '"';
  return out;
}

// Text inside a comment: parentheses and backslashes quoted (RFC 5322 3.2.2).
std::string comment_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\r' || c == '\n') continue;
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string spf_verdict_comment(const SpfRequest& request, const SpfVerdict& verdict) {
  const std::string ip = request.ip.text();
  const std::string who = request.identity == SpfIdentity::kHelo || request.mail_from.empty()
                              ? absl::StrCat("the HELO name ", verdict.domain)
                              : absl::StrCat("domain of ", verdict.sender);
  switch (verdict.result) {
    case SpfResult::kPass: return absl::StrCat(who, " designates ", ip, " as permitted sender");
    case SpfResult::kFail: return absl::StrCat(who, " does not designate ", ip, " as permitted sender");
    case SpfResult::kSoftFail:
      return absl::StrCat(who, " does not designate ", ip, " as permitted sender, but is transitioning");
    case SpfResult::kNeutral: return absl::StrCat(ip, " is neither permitted nor denied by ", who);
    case SpfResult::kNone: return absl::StrCat(who, " does not designate permitted sender hosts");
    case SpfResult::kTempError: return absl::StrCat("temporary error checking ", who);
    case SpfResult::kPermError: return absl::StrCat("permanent error in the SPF record for ", who);
  }
  return {};
}

std::string received_spf_field(const SpfRequest& request, const SpfVerdict& verdict) {
  std::vector<std::string> parts;
  const std::string receiver = request.receiver.empty() ? "unknown" : request.receiver;
  parts.push_back(absl::StrCat(av(spf_result_name(verdict.result))));
  parts.push_back(absl::StrCat("(", comment_text(absl::StrCat(receiver, ": ", spf_verdict_comment(request, verdict))), ")"));
  parts.push_back(absl::StrCat("receiver=", value_text(receiver), ";"));
  parts.push_back(absl::StrCat("client-ip=", request.ip.text(), ";"));
  parts.push_back(absl::StrCat("envelope-from=", value_text(verdict.sender), ";"));
  if (!request.helo.empty()) parts.push_back(absl::StrCat("helo=", value_text(request.helo), ";"));
  parts.push_back(absl::StrCat("identity=", av(spf_identity_name(request.mail_from.empty() ? SpfIdentity::kHelo
                                                                                          : request.identity)),
                               ";"));
  if (!verdict.mechanism.empty()) parts.push_back(absl::StrCat("mechanism=", value_text(verdict.mechanism), ";"));
  if (verdict.result == SpfResult::kPermError || verdict.result == SpfResult::kTempError) {
    parts.push_back(absl::StrCat("problem=", value_text(verdict.problem), ";"));
  }
  // Folded at spaces between words: comments and quoted strings may hold
  // folding white space too (RFC 5322 3.2.2, 3.2.4), and unfolding restores them.
  std::string out = "Received-SPF:";
  std::size_t line = out.size();
  for (const std::string& part : parts) {
    for (absl::string_view word : absl::StrSplit(part, ' ')) {
      if (line + 1 + word.size() > 78 && line > 1) {
        out += "\r\n";
        line = 0;
      }
      out += ' ';
      out.append(word.data(), word.size());
      line += 1 + word.size();
    }
  }
  return out;
}

}  // namespace smtplab::auth
