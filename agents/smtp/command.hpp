// SMTP commands (RFC 5321 4.1) and the ESMTP commands and parameters that real
// servers use: STARTTLS (RFC 3207), AUTH (RFC 4954), BDAT (RFC 3030), SIZE
// (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531) and the DSN
// parameters RET, ENVID, NOTIFY and ORCPT (RFC 3461). Parsing and formatting
// only: what a command means in a session is the sessions' business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/smtp/address.hpp"

namespace smtplab::smtp {

enum class Verb {
  kEhlo, kHelo, kMail, kRcpt, kData, kBdat, kRset, kVrfy, kExpn, kHelp, kNoop,
  kQuit, kStarttls, kAuth,
  kLhlo,  // LMTP's hello, in place of EHLO and HELO (RFC 2033 4.1)
  kObsolete,  // SEND, SOML, SAML, TURN: known, never implemented (RFC 5321 4.1.5)
  kUnknown,
};

std::string_view verb_name(Verb verb);
Verb verb_from_word(std::string_view word);  // case-insensitive (RFC 5321 2.4)

enum class BodyType { k7Bit, k8BitMime, kBinaryMime };

// Parameters of MAIL FROM (RFC 5321 4.1.1.2 Mail-parameters).
struct MailParameters {
  std::optional<std::uint64_t> size;  // SIZE=n (RFC 1870)
  std::optional<BodyType> body;       // BODY=7BIT|8BITMIME|BINARYMIME
  bool smtputf8 = false;              // SMTPUTF8 (RFC 6531 3.4)
  std::optional<std::string> ret;     // RET=FULL|HDRS (RFC 3461 4.3)
  std::optional<std::string> envid;   // ENVID=xtext, decoded (RFC 3461 4.4)
  std::optional<std::string> auth;    // AUTH=<mailbox> (RFC 4954 5), decoded
  friend bool operator==(const MailParameters&, const MailParameters&) = default;
};

// Parameters of RCPT TO (RFC 3461 4.1, 4.2).
struct RcptParameters {
  // NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY; empty when absent.
  std::vector<std::string> notify;
  std::optional<std::string> orcpt;  // "rfc822;user@example.org", decoded
  friend bool operator==(const RcptParameters&, const RcptParameters&) = default;
};

struct Command {
  Verb verb = Verb::kUnknown;
  std::string verb_text;  // as the client wrote it
  std::string argument;   // everything after the verb and its separating space

  // Filled according to the verb:
  std::string domain;         // EHLO/HELO
  Path path;                  // MAIL/RCPT
  MailParameters mail;        // MAIL
  RcptParameters rcpt;        // RCPT
  std::uint64_t chunk_size = 0;  // BDAT
  bool last_chunk = false;       // BDAT ... LAST
  std::string mechanism;         // AUTH, upper-cased
  std::optional<std::string> initial_response;  // AUTH: base64 as sent ("=" kept)
};

struct CommandSyntax {
  bool allow_utf8 = false;  // the server advertises SMTPUTF8 (RFC 6531)
};

// What went wrong in a command line: the reply the server should give and why.
struct CommandError {
  int code = 501;
  std::string enhanced = "5.5.4";
  std::string message;  // "column 12: expected '>' closing the path"
};

// Parses one command line without its CRLF. Unknown verbs parse fine with
// Verb::kUnknown (the session answers 500); syntax errors in the arguments
// come back as a CommandError with the reply the RFCs call for.
struct CommandParse {
  Command command;
  std::optional<CommandError> error;
  bool ok() const { return !error.has_value(); }
};
CommandParse parse_command(std::string_view line, const CommandSyntax& syntax = {});

// The wire form of a command, with CRLF. Parameters are written in a fixed
// order and xtext-encoded where RFC 3461 says so.
std::string format_command(const Command& command);

// Helpers for building commands in clients and tests.
Command make_ehlo(std::string_view domain);
Command make_helo(std::string_view domain);
Command make_lhlo(std::string_view domain);
Command make_mail(const Path& from, const MailParameters& params = {});
Command make_rcpt(const Path& to, const RcptParameters& params = {});
Command make_simple(Verb verb, std::string_view argument = {});
Command make_bdat(std::uint64_t size, bool last);
Command make_auth(std::string_view mechanism, std::optional<std::string> initial_response);

// xtext (RFC 3461 4): "+" HEXCHAR HEXCHAR escapes "+", "=", and octets outside 33..126.
std::string xtext_encode(std::string_view raw);
absl::StatusOr<std::string> xtext_decode(std::string_view text);

}  // namespace smtplab::smtp
