// Explanations of SMTP's own words: reply codes, enhanced status codes,
// commands, EHLO keywords, and a reply read by what it answers.
#include "scenarios/explanations.hpp"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/smtp/command.hpp"
#include "agents/smtp/reply_answers.hpp"
#include "agents/smtp/reply_reason.hpp"
#include "base/absl_string_view.hpp"
#include "scenarios/explanations_internal.hpp"

namespace smtplab::scenarios {
namespace explanation_parts {

const std::map<int, std::string>& reply_codes() {
  static const auto* codes = new std::map<int, std::string>{
      {211, "System status or help reply (RFC 5321 4.2.3)."},
      {214, "Help message, for people (RFC 5321 4.2.3)."},
      {220, "Service ready: the server's greeting, or its go-ahead for the TLS handshake after STARTTLS (RFC 5321 4.2.3, RFC 3207 4)."},
      {221, "Service closing the connection, the answer to QUIT (RFC 5321 4.2.3)."},
      {235, "Authentication succeeded (RFC 4954 6)."},
      {250, "Requested action okay, completed. After the message text it means the server has taken responsibility for the message: it is stored and will be delivered or bounced (RFC 5321 4.2.3, 6.1)."},
      {251, "User not local; the server will forward the message (RFC 5321 4.2.3)."},
      {252, "Cannot verify the user, but the server will accept the message and try to deliver it (RFC 5321 3.5.3)."},
      {334, "A SASL challenge: the server waits for the next piece of the authentication exchange, base64-encoded (RFC 4954 4)."},
      {354, "Start mail input: send the message, then a line with a single dot (RFC 5321 4.1.1.4)."},
      {421, "Service not available, closing the connection. A temporary condition: the client tries again later (RFC 5321 3.8, 4.2.3)."},
      {450, "Mailbox unavailable for now (busy, or a policy like greylisting): try again later (RFC 5321 4.2.3)."},
      {451, "Requested action aborted: local error in processing, or a temporary policy refusal such as greylisting. The sender keeps the message and retries later (RFC 5321 4.2.3, 4.5.4.1)."},
      {452, "Insufficient system storage, a full mailbox, or too many recipients: try again later (RFC 5321 4.2.3, 4.5.3.1.10)."},
      {454, "Temporary failure of TLS or of authentication (RFC 3207 4, RFC 4954 6)."},
      {455, "The server cannot accommodate the parameters right now (RFC 5321 4.2.3)."},
      {500, "Syntax error, command unrecognized (or a line too long) (RFC 5321 4.2.3)."},
      {501, "Syntax error in parameters or arguments, such as a malformed address (RFC 5321 4.2.3)."},
      {502, "Command not implemented (RFC 5321 4.2.3)."},
      {503, "Bad sequence of commands: this command is not allowed at this point (RFC 5321 4.1.4, 4.2.3)."},
      {504, "Command parameter not implemented (RFC 5321 4.2.3)."},
      {521, "The host does not accept mail (RFC 7504)."},
      {530, "Authentication required: log in (AUTH) before sending (RFC 4954 6)."},
      {534, "The authentication mechanism is too weak (RFC 4954 6)."},
      {535, "Authentication credentials invalid: wrong user name or password (RFC 4954 6)."},
      {538, "Encryption required for the requested authentication mechanism: use STARTTLS first (RFC 4954 6)."},
      {550, "Requested action not taken: mailbox unavailable (no such user, no access, or policy). Permanent: the sender gives up and bounces (RFC 5321 4.2.3)."},
      {551, "User not local (RFC 5321 4.2.3)."},
      {552, "Exceeded storage allocation: the message is too large, or the mailbox is full for good (RFC 5321 4.2.3, RFC 1870)."},
      {553, "Mailbox name not allowed (bad address syntax, or non-ASCII without SMTPUTF8) (RFC 5321 4.2.3, RFC 6531)."},
      {554, "Transaction failed, or (as a greeting) no SMTP service here. Permanent (RFC 5321 3.1, 4.2.3)."},
      {555, "MAIL FROM/RCPT TO parameters not recognized or not implemented (RFC 5321 4.2.3)."},
      {556, "The domain does not accept mail: it publishes a null MX (RFC 7504, RFC 7505)."},
  };
  return *codes;
}

const std::map<std::string, std::string>& enhanced_details() {
  static const auto* details = new std::map<std::string, std::string>{
      {"0.0", "other or undefined status"},
      {"1.0", "other address status"}, {"1.1", "bad destination mailbox address (no such user)"},
      {"1.2", "bad destination system address (no such domain or host)"},
      {"1.3", "bad destination mailbox address syntax"}, {"1.4", "destination mailbox address ambiguous"},
      {"1.5", "destination address valid"}, {"1.6", "destination mailbox has moved"},
      {"1.7", "bad sender's mailbox address syntax"}, {"1.8", "bad sender's system address"},
      {"1.10", "recipient address has a null MX (RFC 7505)"},
      {"2.0", "other or undefined mailbox status"}, {"2.1", "mailbox disabled, not accepting messages"},
      {"2.2", "mailbox full"}, {"2.3", "message length exceeds administrative limit"},
      {"2.4", "mailing list expansion problem"},
      {"3.0", "other or undefined mail system status"}, {"3.1", "mail system full"},
      {"3.2", "system not accepting network messages"}, {"3.3", "system not capable of selected features"},
      {"3.4", "message too big for system"}, {"3.5", "system incorrectly configured"},
      {"4.0", "other or undefined network or routing status"}, {"4.1", "no answer from host"},
      {"4.2", "bad connection"}, {"4.3", "directory server failure (DNS)"}, {"4.4", "unable to route"},
      {"4.5", "mail system congestion"}, {"4.6", "routing loop detected"}, {"4.7", "delivery time expired"},
      {"5.0", "other or undefined protocol status"}, {"5.1", "invalid command"}, {"5.2", "syntax error"},
      {"5.3", "too many recipients"}, {"5.4", "invalid command arguments"}, {"5.5", "wrong protocol version"},
      {"5.6", "authentication exchange line too long (RFC 4954)"},
      {"6.0", "other or undefined media error"}, {"6.1", "media not supported"},
      {"6.2", "conversion required and prohibited"}, {"6.3", "conversion required but not supported"},
      {"6.4", "conversion with loss performed"}, {"6.5", "conversion failed"},
      {"6.7", "non-ASCII addresses not permitted for that sender or recipient (RFC 6531)"},
      {"7.0", "other or undefined security status"}, {"7.1", "delivery not authorized, message refused (policy)"},
      {"7.2", "mailing list expansion prohibited"}, {"7.3", "security conversion required but not possible"},
      {"7.4", "security features not supported"}, {"7.5", "cryptographic failure"},
      {"7.6", "cryptographic algorithm not supported"}, {"7.7", "message integrity failure"},
      {"7.8", "authentication credentials invalid (RFC 4954)"}, {"7.9", "authentication mechanism too weak (RFC 4954)"},
      {"7.10", "encryption needed (RFC 5248)"}, {"7.11", "encryption required for requested authentication mechanism (RFC 4954)"},
  };
  return *details;
}

const std::map<std::string, std::string>& commands() {
  static const auto* c = new std::map<std::string, std::string>{
      {"ehlo", "The client says who it is and asks which extensions the server offers; the server lists them in a multi-line 250 reply (RFC 5321 4.1.1.1)."},
      {"lhlo", "LHLO is LMTP's hello (RFC 2033 4.1): the MTA hands mail to its mailbox server with LMTP, SMTP's sibling for the last step, as Postfix does to Dovecot. It works like EHLO, but after the message text the server answers once per recipient, so a full mailbox refuses only its own recipient (RFC 2033 4.2)."},
      {"helo", "The old greeting without extensions, used by clients (and servers) that predate ESMTP (RFC 5321 4.1.1.1)."},
      {"mail", "MAIL FROM starts a transaction and gives the envelope sender: where bounces go. It need not match the From: header (RFC 5321 4.1.1.2)."},
      {"rcpt", "RCPT TO names one envelope recipient; each gets its own reply, so some can be accepted and others refused (RFC 5321 4.1.1.3)."},
      {"data", "DATA asks to send the message itself; after 354 the text follows, ended by a line with a single dot (RFC 5321 4.1.1.4)."},
      {"bdat", "BDAT sends the message in chunks of a stated size, with no dot-stuffing (RFC 3030 CHUNKING)."},
      {"rset", "RSET abandons the current transaction (RFC 5321 4.1.1.5)."},
      {"noop", "NOOP does nothing; it checks the connection is alive (RFC 5321 4.1.1.9)."},
      {"quit", "QUIT ends the session; the server answers 221 and closes (RFC 5321 4.1.1.10)."},
      {"vrfy", "VRFY asks whether an address exists; most servers answer 252 so as not to help spammers (RFC 5321 3.5.3)."},
      {"expn", "EXPN asks for a mailing list's members; usually refused (RFC 5321 3.5.2)."},
      {"auth", "AUTH logs in with a SASL mechanism (RFC 4954). This one is sent inside TLS, so the password, which PLAIN and LOGIN only base64-encode, is encrypted on the wire."},
      {"starttls", "STARTTLS upgrades the connection to TLS; afterwards the client says EHLO again and the server forgets everything from before (RFC 3207)."},
  };
  return *c;
}

// One line of a 250 reply to EHLO names an extension (RFC 5321 4.1.1.1).
const std::map<std::string, std::string>& extensions() {
  static const auto* x = new std::map<std::string, std::string>{
      {"PIPELINING", "PIPELINING: the client may send several commands without waiting for each reply, then read the replies in order (RFC 2920)."},
      {"SIZE", "SIZE: the largest message this server accepts, in octets; a client may announce a message's size with MAIL FROM's SIZE= so that one too large is refused before it is sent (RFC 1870)."},
      {"8BITMIME", "8BITMIME: message text may carry 8-bit octets, declared with BODY=8BITMIME (RFC 6152)."},
      {"SMTPUTF8", "SMTPUTF8: addresses and header fields may be written in UTF-8 (RFC 6531)."},
      {"CHUNKING", "CHUNKING: the message may go in BDAT chunks of a stated size instead of DATA, with no dot-stuffing (RFC 3030)."},
      {"BINARYMIME", "BINARYMIME: with BDAT the text may be binary, NULs included (RFC 3030 3)."},
      {"DSN", "DSN: the client may ask, per recipient, for delivery status notifications (NOTIFY=, RET=, ENVID=; RFC 3461)."},
      {"ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES: replies carry a second code such as 2.1.5 that says precisely what happened (RFC 2034, RFC 3463)."},
      {"STARTTLS", "STARTTLS: the client may turn this connection into a TLS one before it sends anything private (RFC 3207)."},
      {"AUTH", "AUTH: the server accepts logins with the SASL mechanisms listed (RFC 4954)."},
      {"HELP", "HELP: the server answers the HELP command with text for people (RFC 5321 4.1.1.8)."},
      {"REQUIRETLS", "REQUIRETLS: the client may require TLS on every later hop of this message (RFC 8689)."},
  };
  return *x;
}

// "250-SIZE 10240000" -> "SIZE"; "250 HELP" -> "HELP".
std::string reply_keyword(std::string_view line) {
  if (line.size() < 5) return {};
  std::string_view rest = line.substr(4);
  return absl::AsciiStrToUpper(av(rest.substr(0, rest.find(' '))));
}

// A reply explained by what it answers (the trace's "answers" detail), or
// empty when the context adds nothing to the code's own meaning.
std::string explain_reply_in_context(const sim::TraceEvent& e, const std::string& answers) {
  namespace to = smtp::reply_answers;
  const int code = e.code;
  // A command's replies are named by its verb, as verb_name() spells it.
  const smtp::Verb verb = smtp::verb_from_word(answers);
  auto answers_verb = [&](smtp::Verb v) { return verb == v && smtp::verb_name(v) == answers; };
  const bool positive = code >= 200 && code < 400;
  if (positive) {
    if (answers == to::kGreeting) {
      return "The server's greeting: it is ready. In SMTP the server speaks first, and the client waits for this "
             "line before it says anything (RFC 5321 3.1, 4.2).";
    }
    if (answers_verb(smtp::Verb::kEhlo) || answers_verb(smtp::Verb::kLhlo)) {
      const std::string keyword = reply_keyword(e.text);
      if (auto it = extensions().find(keyword); it != extensions().end()) {
        return absl::StrCat("One line of the ", answers, " reply, naming an extension the client may use: ",
                            it->second);
      }
      const bool last = e.text.size() > 3 && e.text[3] == ' ';
      return absl::StrCat("The answer to ", answers, ": the server names itself and greets the client",
                          last ? "; with no more lines, it offers no extensions"
                               : "; each line after this one names an extension the client may use",
                          answers_verb(smtp::Verb::kLhlo) ? " (RFC 2033 4.1, RFC 5321 4.1.1.1)." : " (RFC 5321 4.1.1.1).");
    }
    if (answers_verb(smtp::Verb::kHelo)) {
      return "The answer to HELO: a greeting with no list of extensions, since HELO predates ESMTP; the session "
             "goes on in plain RFC 5321 SMTP (RFC 5321 4.1.1.1).";
    }
    if (answers_verb(smtp::Verb::kMail)) {
      return "The server accepts this envelope sender: a mail transaction has begun, and the recipients come next "
             "(RFC 5321 4.1.1.2). Nothing is stored yet.";
    }
    if (answers_verb(smtp::Verb::kRcpt)) {
      return "The server accepts this recipient. Each RCPT gets a reply of its own, so one refused recipient does "
             "not stop the others (RFC 5321 4.1.1.3). The message itself has not been sent yet.";
    }
    if (answers_verb(smtp::Verb::kData) && code == 354) {
      return "The answer to DATA: go ahead, send the message text, then a line with a single dot (RFC 5321 4.1.1.4).";
    }
    if (answers == to::kEndOfData || answers == to::kLastChunk) {
      return absl::StrCat("The answer to the ", answers == to::kEndOfData ? "final dot" : "last BDAT chunk",
                          ": the server has stored the message and taken responsibility for it; it will deliver "
                          "it or bounce it, and the client may forget it (RFC 5321 4.2.5, 6.1).");
    }
    if (answers == to::kEndOfDataForRecipient) {
      return "LMTP answers the message text once for each accepted recipient, in the order of the RCPT commands "
             "(RFC 2033 4.2): this one says the mailbox server has filed the message for the recipient it names, "
             "and only for that one.";
    }
    if (answers_verb(smtp::Verb::kBdat)) {
      return "The server has this chunk; the message is complete only after the chunk sent with BDAT ... LAST "
             "(RFC 3030 2).";
    }
    if (answers_verb(smtp::Verb::kRset)) {
      return "The transaction is abandoned: sender and recipients are forgotten, and the session goes on "
             "(RFC 5321 4.1.1.5).";
    }
    if (answers_verb(smtp::Verb::kNoop)) return "Nothing to do: the server is there and listening (RFC 5321 4.1.1.9).";
    if (answers_verb(smtp::Verb::kStarttls)) {
      return "The answer to STARTTLS: go ahead; the TLS handshake follows at once on this same connection, and "
             "SMTP starts again inside it (RFC 3207 4).";
    }
    return {};
  }
  // A refusal: what it refuses depends on what it answers.
  if (answers == to::kGreeting) return "It is the greeting: the server will not take mail on this connection at all.";
  if (answers == to::kNothing) return "The server says it unasked, and closes the connection (RFC 5321 3.8).";
  if (answers_verb(smtp::Verb::kMail)) return "It answers MAIL FROM: no transaction has begun.";
  if (answers_verb(smtp::Verb::kRcpt)) {
    return "It answers RCPT TO: only this recipient is refused; the transaction goes on with any others "
           "(RFC 5321 4.1.1.3).";
  }
  if (answers_verb(smtp::Verb::kData)) return "It answers DATA: no message text may follow.";
  if (answers == to::kEndOfData || answers == to::kLastChunk) {
    return code < 500 ? "It answers the message text: the server did not take the message, so the sender keeps it "
                        "and tries again later (RFC 5321 4.5.4.1)."
                      : "It answers the message text: the message is refused for good, so the sender returns it to "
                        "its author with a bounce (RFC 5321 4.2.5, 6.1).";
  }
  if (answers == to::kEndOfDataForRecipient) {
    return absl::StrCat("It answers the message text for one recipient only (LMTP gives each accepted recipient its "
                        "own reply, RFC 2033 4.2): ",
                        code < 500 ? "the sending MTA keeps the message for this one and tries again later, while "
                                     "the others may already have it."
                                   : "the sending MTA bounces the message for this one, while the others may "
                                     "already have it.");
  }
  if (answers == to::kAuthResponse) return "It answers a line of the AUTH exchange, which ends here.";
  if (verb != smtp::Verb::kUnknown) return absl::StrCat("It answers ", answers, ".");
  return {};
}

}  // namespace explanation_parts

using namespace explanation_parts;

std::optional<std::string> explain_reply_code(int code) {
  auto it = reply_codes().find(code);
  if (it != reply_codes().end()) return it->second;
  if (code >= 200 && code < 600) {
    static const char* classes[] = {"", "", "Positive completion", "Positive intermediate", "Transient negative: try again later",
                                    "Permanent negative: do not repeat"};
    return absl::StrCat(classes[code / 100], " reply (RFC 5321 4.2.1).");
  }
  return std::nullopt;
}

std::optional<std::string> explain_enhanced_code(const std::string& code) {
  const std::vector<std::string> parts = absl::StrSplit(code, '.');
  if (parts.size() != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5")) return std::nullopt;
  const char* klass = parts[0] == "2" ? "Success" : parts[0] == "4" ? "Persistent transient failure (may succeed later)"
                                                                     : "Permanent failure";
  auto it = enhanced_details().find(parts[1] + "." + parts[2]);
  const std::string what = it != enhanced_details().end() ? it->second : "a status RFC 3463 does not list";
  return absl::StrCat(code, ": ", klass, "; ", what, " (RFC 3463 3).");
}

std::string explain_reply_reason(std::string_view reason) {
  namespace why = smtp::reply_reason;
  if (reason == why::kNoValidRecipients) {
    return "Here: with PIPELINING the client sent DATA together with its RCPT commands, before knowing that every "
           "recipient would be refused, so the server refuses DATA (RFC 2920 3.1). Nothing is lost: the refused "
           "recipients are dealt with one by one.";
  }
  if (reason == why::kGreylisted) {
    return "This is greylisting: the server refuses the first attempt from an unknown (client, sender, recipient) "
           "triplet. A real mail server keeps the message and retries; many spam senders never do (RFC 6647).";
  }
  if (reason == why::kClientTlsPolicy) {
    return "No server said this: the sending client made the reply up for its queue, because its TLS policy "
           "stopped it before any mail (RFC 3207 4.1).";
  }
  if (reason == why::kRateLimited) {
    return "This is a rate limit: the client sent more messages than the server takes from one address in its time "
           "window, so the server says 421 and closes. A real sender keeps the message queued and tries later "
           "(RFC 5321 4.2.3, 3.8).";
  }
  return {};
}

std::string explain_reply_lines(std::span<const sim::TraceEvent> lines) {
  if (lines.empty()) return {};
  const std::string answers = detail(lines.front(), sim::detail_key::kAnswers);
  if (lines.size() == 1 || (answers != "EHLO" && answers != "LHLO")) {
    return explain_event(lines.back());
  }
  std::string out = explain_event(lines.front());
  for (const sim::TraceEvent& line : lines.subspan(1)) {
    if (auto it = extensions().find(reply_keyword(line.text)); it != extensions().end()) {
      absl::StrAppend(&out, " ", it->second);
    }
  }
  return out;
}

std::string explain_pipelined_batch(std::span<const sim::TraceEvent> commands) {
  if (commands.size() < 2) return commands.empty() ? std::string() : explain_event(commands.front());
  return absl::StrCat(
      "These ", commands.size(), " commands went out in one write, before any reply came back: the server offered "
      "PIPELINING, so the client need not wait after each (RFC 2920 3.1). The server answers each in turn, in the "
      "order sent; a refusal of one does not stop the next from being read (RFC 2920 3.2), which is why DATA can "
      "follow recipients that were all refused.");
}

}  // namespace smtplab::scenarios
