// Runs every dialogue in testdata/transcripts/ against a fresh ServerSession,
// one file per case, in the manner of chasquid's test transcripts: a case is
// data a reader can check against the RFC line by line, not code. The format
// is documented in testdata/transcripts/README.md; this file is its only
// implementation: a parser, a runner, and the parameterised test.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "agents/smtp/server_session.hpp"
#include "agents/smtp/testing/recording_policy.hpp"
#include "base/absl_string_view.hpp"

#ifndef SMTPLAB_TRANSCRIPTS_DIR
#error "SMTPLAB_TRANSCRIPTS_DIR must name the transcripts folder (set in agents/smtp/CMakeLists.txt)"
#endif

namespace smtplab::smtp {
namespace {

namespace fs = std::filesystem;

// RecordingPolicy's recipients ("nobody" 550, "later" 450) and message
// store ("Ok: queued as N"), with users that each file chooses itself.
class TranscriptPolicy : public testing::RecordingPolicy {
 public:
  std::map<std::string, std::string, std::less<>> users;  // name -> password

  std::optional<Reply> on_auth(const SessionState&, const AuthAttempt& a) override {
    const auto it = users.find(a.user);
    if (it != users.end() && it->second == a.password) return std::nullopt;
    return make_reply(535, "5.7.8", "Authentication credentials invalid");
  }
};

struct Config {
  ServerSettings settings;
  std::map<std::string, std::string, std::less<>> users;
};

// What a line of the file asks for, in file order.
struct Step {
  enum class Kind { kSend, kExpect, kClosed, kTls, kNoReply, kMessage };
  Kind kind;
  std::string text;  // bytes to send (escapes resolved), a reply line, or a message
  int line;          // 1-based line in the file, for failure messages
};

struct Transcript {
  Config config;
  std::vector<Step> steps;
};

// Resolves the escapes of C:, C~, S: and "= message" text: \r \n \0 \t \\ \{
// \xHH, and {TEXT*N}, which stands for N copies of TEXT (for long lines and
// big messages); TEXT may hold escapes but no braces.
// Returns an error message, or nothing when all went well.
std::optional<std::string> unescape(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '{') {
      const std::size_t close = in.find('}', i);
      const std::size_t star = in.rfind('*', close);
      std::size_t n = 0;
      if (close == std::string_view::npos || star == std::string_view::npos || star < i ||
          !absl::SimpleAtoi(av(in.substr(star + 1, close - star - 1)), &n)) {
        return "a '{' must open {TEXT*COUNT} (write \\{ for a brace)";
      }
      std::string text;
      if (auto error = unescape(in.substr(i + 1, star - i - 1), text)) return error;
      for (std::size_t k = 0; k < n; ++k) out += text;
      i = close;
      continue;
    }
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == in.size()) return "a '\\' ends the line";
    switch (in[i]) {
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case '0': out += '\0'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case '{': out += '{'; break;
      case 'x': {
        if (i + 2 >= in.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(in[i + 1])) ||
            !absl::ascii_isxdigit(static_cast<unsigned char>(in[i + 2]))) {
          return "\\x needs two hex digits";
        }
        out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
        break;
      }
      default:
        return std::string("unknown escape \\") + in[i];
    }
  }
  return std::nullopt;
}

// The inverse of unescape (without repetitions), so that what a failure
// prints can be pasted into the file.
std::string escape(std::string_view in) {
  std::string out;
  for (const char c : in) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\0': out += "\\0"; break;
      case '\t': out += "\\t"; break;
      case '\\': out += "\\\\"; break;
      case '{': out += "\\{"; break;
      default:
        if (u < 0x20 || u >= 0x7f) {
          out += absl::StrFormat("\\x%02x", u);
        } else {
          out += c;
        }
    }
  }
  // A trailing space would not survive an editor.
  if (!out.empty() && out.back() == ' ') out.replace(out.size() - 1, 1, "\\x20");
  return out;
}

// The "! key value" options: each sets one ServerSettings field (named as in
// server_settings.hpp) or adds a user. Returns an error message on a bad value.
using Setter = std::function<std::optional<std::string>(Config&, std::string_view)>;

Setter flag(bool ServerSettings::*field) {
  return [field](Config& c, std::string_view v) -> std::optional<std::string> {
    if (v != "yes" && v != "no") return "expected yes or no";
    c.settings.*field = v == "yes";
    return std::nullopt;
  };
}

Setter octets(std::size_t ServerSettings::*field) {
  return [field](Config& c, std::string_view v) -> std::optional<std::string> {
    if (!absl::SimpleAtoi(av(v), &(c.settings.*field))) return "expected a number";
    return std::nullopt;
  };
}

Setter text(std::string ServerSettings::*field) {
  return [field](Config& c, std::string_view v) -> std::optional<std::string> {
    c.settings.*field = std::string(v);
    return std::nullopt;
  };
}

const std::map<std::string, Setter, std::less<>>& setters() {
  static const auto* table = new std::map<std::string, Setter, std::less<>>{
      {"hostname", text(&ServerSettings::hostname)},
      {"greeting_text", text(&ServerSettings::greeting_text)},
      {"max_command_line_octets", octets(&ServerSettings::max_command_line_octets)},
      {"max_auth_line_octets", octets(&ServerSettings::max_auth_line_octets)},
      {"max_text_line_octets", octets(&ServerSettings::max_text_line_octets)},
      {"max_recipients", octets(&ServerSettings::max_recipients)},
      {"max_message_octets", octets(&ServerSettings::max_message_octets)},
      {"max_errors",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (!absl::SimpleAtoi(av(v), &c.settings.max_errors)) return "expected a number";
         return std::nullopt;
       }},
      {"bare_line_ending",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         if (v == "reject") c.settings.bare_line_ending = BareLineEnding::kReject;
         else if (v == "normalize") c.settings.bare_line_ending = BareLineEnding::kNormalize;
         else if (v == "accept_as_line_end") c.settings.bare_line_ending = BareLineEnding::kAcceptAsLineEnd;
         else return "expected reject, normalize or accept_as_line_end";
         return std::nullopt;
       }},
      {"accept_nul_in_text", flag(&ServerSettings::accept_nul_in_text)},
      {"offer_pipelining", flag(&ServerSettings::offer_pipelining)},
      {"offer_8bitmime", flag(&ServerSettings::offer_8bitmime)},
      {"offer_smtputf8", flag(&ServerSettings::offer_smtputf8)},
      {"offer_chunking", flag(&ServerSettings::offer_chunking)},
      {"offer_binarymime", flag(&ServerSettings::offer_binarymime)},
      {"offer_dsn", flag(&ServerSettings::offer_dsn)},
      {"offer_enhanced_status_codes", flag(&ServerSettings::offer_enhanced_status_codes)},
      {"offer_starttls", flag(&ServerSettings::offer_starttls)},
      {"implicit_tls", flag(&ServerSettings::implicit_tls)},
      {"starttls_unavailable", flag(&ServerSettings::starttls_unavailable)},
      {"offer_auth", flag(&ServerSettings::offer_auth)},
      {"lmtp", flag(&ServerSettings::lmtp)},
      {"auth_requires_tls", flag(&ServerSettings::auth_requires_tls)},
      {"offer_vrfy", flag(&ServerSettings::offer_vrfy)},
      {"user",
       [](Config& c, std::string_view v) -> std::optional<std::string> {
         const std::size_t space = v.find(' ');
         if (space == std::string_view::npos || space == 0) return "expected a name and a password";
         c.users[std::string(v.substr(0, space))] = std::string(v.substr(space + 1));
         return std::nullopt;
       }},
  };
  return *table;
}

// Reads a file into a Transcript; a malformed line is reported as a test
// failure at that line, and nothing is returned.
std::optional<Transcript> parse(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    ADD_FAILURE() << "cannot read " << path;
    return std::nullopt;
  }
  Transcript t;
  std::string raw;
  int number = 0;
  const auto fail = [&](std::string_view why) {
    ADD_FAILURE_AT(path.c_str(), number) << why << "\n  line: " << raw;
    return std::nullopt;
  };
  // The text after a two-character tag and its space: "C: text" or just "C:".
  const auto rest = [](std::string_view line) { return line.size() > 3 ? line.substr(3) : std::string_view(); };
  while (std::getline(file, raw)) {
    ++number;
    std::string_view line = raw;
    // Real CRs are always written as \r, so one at the end is the file's own
    // line ending (a checkout with CRLF files).
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1 && (line.rfind("# RFC ", 0) != 0 || line.find(':') == std::string_view::npos)) {
      return fail("the first line must be \"# RFC <number> <section>: <what the case shows>\"");
    }
    if (line.empty() || line[0] == '#') continue;
    if (line.back() == ' ' || line.back() == '\t') return fail("trailing white space (write a wanted one as \\x20)");
    const std::string_view tag = line.substr(0, 2);
    if ((tag == "C:" || tag == "C~" || tag == "S:") && line.size() > 2 && line[2] != ' ') {
      return fail("C:, C~ and S: are followed by one space");
    }
    if (tag == "! ") {
      if (!t.steps.empty()) return fail("options (\"! key value\") must come before the dialogue");
      const std::string_view option = line.substr(2);
      const std::size_t space = option.find(' ');
      const std::string_view key = option.substr(0, space);
      const auto it = setters().find(key);
      if (it == setters().end()) return fail("unknown option \"" + std::string(key) + "\"");
      const std::string_view value = space == std::string_view::npos ? "" : option.substr(space + 1);
      if (auto error = it->second(t.config, value)) return fail(*error);
    } else if (tag == "C:" || tag == "C~") {
      std::string bytes;
      if (auto error = unescape(rest(line), bytes)) return fail(*error);
      if (tag == "C:") bytes += "\r\n";
      t.steps.push_back({Step::Kind::kSend, std::move(bytes), number});
    } else if (tag == "S:") {
      std::string reply;
      if (auto error = unescape(rest(line), reply)) return fail(*error);
      t.steps.push_back({Step::Kind::kExpect, std::move(reply), number});
    } else if (line == "= closed") {
      t.steps.push_back({Step::Kind::kClosed, "", number});
    } else if (line == "= tls") {
      t.steps.push_back({Step::Kind::kTls, "", number});
    } else if (line == "= no reply") {
      t.steps.push_back({Step::Kind::kNoReply, "", number});
    } else if (line == "= message" || line.rfind("= message ", 0) == 0) {
      std::string message;  // "= message" alone: an empty message
      if (auto error = unescape(line.substr(std::min<std::size_t>(line.size(), 10)), message)) return fail(*error);
      t.steps.push_back({Step::Kind::kMessage, std::move(message), number});
    } else {
      return fail("not a line of the format (see testdata/transcripts/README.md)");
    }
  }
  return t;
}

// The server's output lines not yet compared, one per line, for failure messages.
std::string pending_lines(std::string_view output) {
  if (output.empty()) return "  (none)\n";
  std::string out;
  while (!output.empty()) {
    const std::size_t eol = output.find("\r\n");
    out += "  S: " + escape(output.substr(0, eol)) + (eol == std::string_view::npos ? " (no CRLF)" : "") + "\n";
    output.remove_prefix(eol == std::string_view::npos ? output.size() : eol + 2);
  }
  return out;
}

void run(const std::string& path) {
  auto transcript = parse(path);
  if (!transcript) return;
  TranscriptPolicy policy;
  policy.users = transcript->config.users;
  ServerSession session(policy, transcript->config.settings, "192.0.2.7:4000");
  session.start();

  std::string output = session.take_output();  // sent by the server, not yet compared
  std::string write;                           // consecutive C: lines, sent as one
  std::size_t messages_checked = 0;
  bool said_closed = false;
  int line = 0;
  const auto fail = [&](const std::string& why) {
    ADD_FAILURE_AT(path.c_str(), line) << why << "\nserver output not yet compared:\n" << pending_lines(output);
  };

  for (const Step& step : transcript->steps) {
    line = step.line;
    if (step.kind == Step::Kind::kSend) {
      write += step.text;
      continue;
    }
    // Any other line ends the write: the client has sent it and now waits.
    if (!write.empty()) {
      session.receive(write);
      write.clear();
    }
    output += session.take_output();
    switch (step.kind) {
      case Step::Kind::kSend:
        break;
      case Step::Kind::kExpect: {
        const std::size_t eol = output.find("\r\n");
        if (eol == std::string::npos) {
          return fail("expected: S: " + escape(step.text) + "\n  actual: no (complete) reply line");
        }
        const std::string actual = output.substr(0, eol);
        if (actual != step.text) {
          return fail("expected: S: " + escape(step.text) + "\n  actual: S: " + escape(actual));
        }
        output.erase(0, eol + 2);
        break;
      }
      case Step::Kind::kNoReply:
        if (!output.empty()) return fail("expected no reply (yet), but the server has answered");
        break;
      case Step::Kind::kClosed:
        if (!session.wants_close()) return fail("expected the session to want to close; it does not");
        said_closed = true;
        break;
      case Step::Kind::kTls:
        if (!session.awaiting_tls()) return fail("expected the session to await the TLS handshake; it does not");
        // The owner flushes the 220 before the handshake: it must all be compared by now.
        if (!output.empty()) return fail("replies left over before the TLS handshake");
        session.tls_established();
        break;
      case Step::Kind::kMessage:
        if (messages_checked >= policy.stored.size()) {
          return fail("expected message " + std::to_string(messages_checked + 1) + " to be stored; only " +
                      std::to_string(policy.stored.size()) + " were");
        }
        if (const std::string& actual = policy.stored[messages_checked++].message; actual != step.text) {
          return fail("expected: = message " + escape(step.text) + "\n  actual: = message " + escape(actual));
        }
        break;
    }
  }
  // The end of the file: what the client sent last is answered, and every
  // reply and a wish to close must have been stated.
  line = transcript->steps.empty() ? 1 : transcript->steps.back().line;
  if (!write.empty()) session.receive(write);
  output += session.take_output();
  if (!output.empty()) return fail("the server sent more than the transcript expects");
  if (session.wants_close() && !said_closed) return fail("the session wants to close; the transcript must say \"= closed\"");
}

std::vector<std::string> list_transcripts() {
  std::vector<std::string> paths;
  std::error_code error;  // a missing folder is reported by TranscriptFolderTest, not a throw at startup
  for (const auto& entry : fs::directory_iterator(SMTPLAB_TRANSCRIPTS_DIR, error)) {
    if (entry.is_regular_file() && entry.path().extension() == ".txt") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

class TranscriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TranscriptTest, Dialogue) { run(GetParam()); }

// "pipelining-through-quit.txt" runs as TranscriptTest.Dialogue/pipelining_through_quit.
INSTANTIATE_TEST_SUITE_P(Transcripts, TranscriptTest, ::testing::ValuesIn(list_transcripts()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A wrong SMTPLAB_TRANSCRIPTS_DIR would otherwise just run no cases.
TEST(TranscriptFolderTest, HasTranscripts) {
  EXPECT_FALSE(list_transcripts().empty()) << "no *.txt in " << SMTPLAB_TRANSCRIPTS_DIR;
}

}  // namespace
}  // namespace smtplab::smtp
