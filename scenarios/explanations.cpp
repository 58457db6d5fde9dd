#include "scenarios/explanations.hpp"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "agents/mta/courier.hpp"
#include "agents/smtp/command.hpp"
#include "agents/smtp/reply_answers.hpp"
#include "agents/tls_policy.hpp"
#include "sim/dns/sim_dns.hpp"
#include "agents/smtp/reply_reason.hpp"
#include "base/absl_string_view.hpp"
#include "sim/time_text.hpp"

namespace smtplab::scenarios {
namespace {

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

std::string detail(const sim::TraceEvent& e, const char* name) {
  const std::string* v = e.detail(name);
  return v == nullptr ? std::string() : *v;
}

// A DNS query or answer, by the type asked and why it was asked (the trace's
// "type" and "purpose"): the same NXDOMAIN bounces a message when it is the
// mail domain's, and only skips one MX host when it is that host's.
std::string explain_dns(const sim::TraceEvent& e) {
  const std::string type = detail(e, sim::detail_key::kType);
  const std::string purpose = detail(e, sim::detail_key::kPurpose);
  const bool domain = purpose == sim::dns_purpose_name(sim::DnsPurpose::kMailDomain);
  const bool exchanger = purpose == sim::dns_purpose_name(sim::DnsPurpose::kExchanger);
  const bool implicit = purpose == sim::dns_purpose_name(sim::DnsPurpose::kImplicitMx);
  const bool named = purpose == sim::dns_purpose_name(sim::DnsPurpose::kNamedHost);
  if (e.kind == sim::EventKind::kDnsQuery) {
    if (domain) {
      return "To deliver to this domain, the MTA asks DNS for its MX records: the hosts that take its mail, each "
             "with a preference (RFC 5321 5.1).";
    }
    if (exchanger) {
      return "The MTA asks for the address (A record) of a mail exchanger from the MX list, going down the list in "
             "order of preference, lowest first (RFC 5321 5.1).";
    }
    if (implicit) {
      return "The domain has no MX records, so it is its own mail server (the implicit MX): the MTA asks for the "
             "domain's own address (RFC 5321 5.1).";
    }
    if (named) {
      return "This server sends the mail on to a host named in its configuration (its relay host, as a submission "
             "server's outgoing MTA or a smarthost, or its own mailbox server), so it asks for that host's address "
             "and looks up no MX.";
    }
    return "A DNS lookup: to deliver mail for a domain an MTA asks for its MX records, then for the address of each "
           "mail exchanger (RFC 5321 5.1).";
  }
  const std::string& x = e.explain;
  if (x == "dns.null_mx") {
    return "A null MX ('MX 0 .'): the domain says it accepts no mail at all, so the message bounces at once (RFC 7505).";
  }
  if (x == "dns.noerror") {
    if (type == sim::dns_type_name(sim::DnsType::kMx)) {
      return "The domain's MX records: the MTA tries the exchanger with the lowest preference first, and the "
             "next only if that one cannot be reached or turns the connection away; equal preferences are tried in "
             "random order (RFC 5321 5.1). A 4xx reply to a command is an answer, not a failure to reach it: the "
             "message waits and the same list is tried again later (RFC 5321 4.5.4.1).";
    }
    return "The host's address: the MTA can now open a connection to it.";
  }
  const bool for_mx_host = exchanger;
  if (x == "dns.nxdomain") {
    if (for_mx_host) {
      return "NXDOMAIN: this MX host's name does not exist. The MTA skips it and tries the next one; only if no MX "
             "host has an address does the message bounce (RFC 5321 5.1).";
    }
    if (domain) {
      return "NXDOMAIN: the name does not exist. For the domain the mail is addressed to that is permanent: the "
             "message bounces (RFC 5321 5.1).";
    }
    return "NXDOMAIN: the name does not exist. It was the only host to try, so the message cannot be routed and "
           "bounces (RFC 3463 5.4.4).";
  }
  if (x == "dns.servfail" || x == "dns.timeout") {
    const std::string what = x == "dns.servfail" ? "SERVFAIL: the DNS server failed." : "No DNS answer in time.";
    if (for_mx_host) {
      return absl::StrCat(what, " That is temporary: the MTA tries the other MX hosts, and if none can be reached "
                                "the message waits in the queue and is tried again.");
    }
    return absl::StrCat(what, " That is temporary: the message waits in the queue and is tried again "
                              "(RFC 5321 4.5.4.1).");
  }
  if (x == "dns.nodata") {
    if (type == sim::dns_type_name(sim::DnsType::kMx)) {
      return "The name exists but has no MX records. A domain with no MX is its own mail server (the implicit "
             "MX): the MTA looks up the domain's own address next (RFC 5321 5.1).";
    }
    if (for_mx_host) {
      return "The name exists but has no address of this type: the MTA skips this MX host and tries the next "
             "(RFC 5321 5.1).";
    }
    return "The name exists but has no records of the type asked for.";
  }
  return "A DNS answer: the records asked for, or why there are none.";
}

// message.submit, as this client does it: its port, its TLS, its login.
std::string explain_submission(const sim::TraceEvent& e) {
  const std::string port = detail(e, sim::detail_key::kPort);
  const std::string tls = detail(e, sim::detail_key::kPolicy);
  const std::string user = detail(e, sim::detail_key::kUser);
  if (port.empty()) {
    return "The mail client (MUA) hands a message to its submission server (MSA), the first hop of every message "
           "(RFC 6409).";
  }
  const std::string how =
      tls == agents::kImplicitTlsPolicyName ? " with TLS from the first byte, before any SMTP (RFC 8314)"
      : tls == agents::tls_level_name(agents::TlsLevel::kVerify) ? ", turning the connection into TLS with STARTTLS before anything else and checking the "
                          "server's certificate; without it nothing is sent (RFC 3207)"
      : tls == agents::tls_level_name(agents::TlsLevel::kEncrypt) ? ", turning the connection into TLS with STARTTLS before anything else; without TLS nothing "
                           "is sent (RFC 3207)"
      : tls == agents::tls_level_name(agents::TlsLevel::kMay) ? ", with STARTTLS if the server offers it, in plaintext otherwise (RFC 3207)"
                     : ", in plaintext: no TLS at all, so everything said on this connection can be read on the way";
  const std::string login =
      user.empty() ? " It does not log in; a real MSA normally insists on a login (RFC 6409 4.3)."
                   : absl::StrCat(" It logs in as ", user, " (SMTP AUTH, RFC 4954) before sending.");
  return absl::StrCat("The mail client (MUA) hands the message to its submission server (MSA) on port ", port, how,
                      ".", login, " The MSA is the first hop of every message (RFC 6409).");
}

std::string explain_tls_handshake(const sim::TraceEvent& e) {
  const std::string policy = detail(e, sim::detail_key::kPolicy);
  const std::string said_policy =
      policy == agents::tls_level_name(agents::TlsLevel::kMay) ? " The sender's policy is opportunistic TLS (\"may\"): it encrypts when it can and delivers either way."
      : policy == agents::tls_level_name(agents::TlsLevel::kEncrypt) ? " The sender's policy is \"encrypt\": TLS is required, the certificate is not checked."
      : policy == agents::tls_level_name(agents::TlsLevel::kVerify) ? " The sender's policy is \"verify\": no delivery without a certificate that verifies (as with DANE, RFC 7672, or MTA-STS enforce, RFC 8461)."
      : "";
  const std::string& x = e.explain;
  std::string why;
  if (x == "tls.verified") {
    why = "The TLS handshake finished and the server's certificate verified: it chains to a CA the client trusts, it is valid now, and it names the host the client wanted (RFC 6125). From here on the session is encrypted and the server is authenticated.";
  } else if (x == "tls.unverified.expired") {
    why = "The TLS handshake finished, but the server's certificate has expired (its notAfter date is in the past). The connection is encrypted, yet the client cannot be sure who it talks to.";
  } else if (x == "tls.unverified.not_yet_valid") {
    why = "The TLS handshake finished, but the server's certificate is not valid yet (its notBefore date is in the future; often a server clock that is wrong). Encrypted, not authenticated.";
  } else if (x == "tls.unverified.wrong_name") {
    why = "The TLS handshake finished, but the certificate was issued for another name than the host the client connected to (RFC 6125 6). Encrypted, not authenticated: it could be anyone's certificate.";
  } else if (x == "tls.unverified.self_signed") {
    why = "The TLS handshake finished, but the certificate is self-signed: no CA vouches for it. Common on mail servers; encrypted, not authenticated.";
  } else if (x == "tls.unverified.unknown_ca") {
    why = "The TLS handshake finished, but the certificate was signed by a CA the client does not trust (\"unable to get local issuer certificate\"). Encrypted, not authenticated.";
  } else {
    why = "The TLS handshake finished, but the server's certificate did not verify. Encrypted, not authenticated.";
  }
  return why + said_policy;
}

}  // namespace

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

std::optional<std::string> explain_query(const std::string& what) {
  // "451 4.7.1 Greylisted...", pasted from a transcript: explain each code in it.
  if (what.find(' ') != std::string::npos) {
    std::string out;
    for (const auto& word : absl::StrSplit(what, ' ', absl::SkipEmpty())) {
      if (auto part = explain_query(std::string(word))) absl::StrAppend(&out, out.empty() ? "" : "\n", *part);
    }
    if (!out.empty()) return out;
    return std::nullopt;
  }
  int code = 0;
  if (absl::SimpleAtoi(what, &code)) {
    auto text = explain_reply_code(code);
    if (!text) return std::nullopt;
    return absl::StrCat(code, ": ", *text);
  }
  if (auto enhanced = explain_enhanced_code(what)) return enhanced;
  if (auto kind = sim::event_kind_named(what)) {
    sim::TraceEvent e;
    e.kind = *kind;
    return absl::StrCat(what, ": ", explain_event(e));
  }
  // A refined reply key, as the trace's explain field has it: "reply.451.greylisted".
  if (absl::StartsWith(what, "reply.")) {
    const std::vector<std::string> parts = absl::StrSplit(what, '.');
    int code = 0;
    if (parts.size() == 3 && absl::SimpleAtoi(parts[1], &code)) {
      sim::TraceEvent e;
      e.kind = sim::EventKind::kSmtpReply;
      e.code = code;
      e.explain = what;
      if (const std::string refined = explain_reply_reason(parts[2]); !refined.empty()) {
        return absl::StrCat(what, ": ", explain_event(e));
      }
    }
  }
  return std::nullopt;
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
  if (lines.size() == 1 || detail(lines.front(), sim::detail_key::kAnswers) != "EHLO") {
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

std::string explain_event(const sim::TraceEvent& e) {
  using K = sim::EventKind;
  // No default: a kind added to sim/trace/trace_kinds.hpp without an
  // explanation here does not compile (-Werror=switch).
  switch (e.kind) {
    case K::kSmtpReply: {
      std::string out = explain_reply_code(e.code).value_or(
          "The server's answer: three digits whose first says success (2), go on (3), try later (4) or give up "
          "(5), then text for people (RFC 5321 4.2).");
      // What it answers says more than the code: a positive reply is
      // explained by its command alone, a refusal by both.
      if (const std::string in_context = explain_reply_in_context(e, detail(e, sim::detail_key::kAnswers));
          !in_context.empty()) {
        out = e.code < 400 ? in_context : absl::StrCat(out, " ", in_context);
      }
      // "451 4.7.1 ..." -> the enhanced code, when the reply has one.
      const std::vector<std::string> words = absl::StrSplit(e.text, ' ');
      if (words.size() > 1 && words[0].size() == 3 && words[1].size() >= 5) {
        if (auto en = explain_enhanced_code(words[1])) absl::StrAppend(&out, " ", *en);
      }
      // "reply.451.greylisted": the refinement the decider gave.
      const std::string prefix = absl::StrCat("reply.", e.code, ".");
      if (absl::StartsWith(e.explain, prefix)) {
        if (const std::string why = explain_reply_reason(std::string_view(e.explain).substr(prefix.size()));
            !why.empty()) {
          absl::StrAppend(&out, " ", why);
        }
      }
      return out;
    }
    case K::kSmtpCommand: {
      if (e.explain == absl::StrCat("command.auth.", smtp::reply_reason::kInClear)) {
        return "AUTH logs in with a SASL mechanism (RFC 4954), and here it happens in the clear, without TLS: "
               "PLAIN and LOGIN only base64-encode the password, so anyone on the path can read it (decode the "
               "line above). This server allows it; a real submission server refuses AUTH until STARTTLS (RFC "
               "4954 4 lets it insist on encryption, and RFC 8314 recommends implicit TLS on port 465).";
      }
      const std::string verb = absl::AsciiStrToLower(e.text.substr(0, e.text.find(' ')));
      auto it = commands().find(verb);
      return it == commands().end() ? "A line the server did not recognize as a command." : it->second;
    }
    case K::kSmtpData: return "The message text, dot-stuffed on the wire (a line starting with '.' gets a second one) and ended by '.' alone on a line (RFC 5321 4.5.2).";
    case K::kSmtpStartTls: return "The server agreed to STARTTLS: the TLS handshake starts now (RFC 3207).";
    case K::kSmtpDiscarded: return "Commands sent in plaintext right behind STARTTLS are thrown away, so an attacker cannot inject them into the encrypted session (CVE-2011-0411).";
    case K::kSmtpError: return "The client broke the protocol (a bad line, a bare LF); the server refused it and carries on.";
    case K::kConnOpen: return "A TCP connection opens. Nothing has been said yet: the server speaks first, with its greeting (RFC 5321 3.1).";
    case K::kConnClose: return "The connection closes.";
    case K::kConnReset: return "The connection was reset in mid-conversation. Whatever was not acknowledged with 250 is still the sender's responsibility; it will try again.";
    case K::kConnRefused: return "Nothing listens on that port (the server is not running): the connection is refused. The sender tries the next MX host, or later.";
    case K::kConnTimeout: return "No answer at all: the host is down or unreachable. The sender gives up on this host for now (RFC 5321 4.5.3.2).";
    case K::kDnsQuery:
    case K::kDnsAnswer:
      return explain_dns(e);
    case K::kMessageSubmit: return explain_submission(e);
    case K::kMessageSubmitted: return "The submission server accepted the message: from now on it is responsible for it.";
    case K::kMessageRejected: return "The submission server refused the message; the mail client shows the error to its user.";
    case K::kQueueEnqueue: return "The server has stored the message in its queue, and only now answers 250: store-and-forward. From that 250 on it is responsible for delivering or bouncing it (RFC 5321 6.1).";
    case K::kQueueAttempt: return "A delivery attempt: the MTA connects to the next hop (an MX host, a smarthost, or the mailbox server). With a connection cache it may instead reuse a session to that hop that is still open from an earlier message: one SMTP session can carry many mail transactions (RFC 5321 3.3).";
    case K::kQueueHopFailed: {
      const std::string failure = detail(e, sim::detail_key::kFailure);
      const char* next = " The next MX host in preference order is tried (RFC 5321 5.1); when none is left, the "
                         "message waits in the queue.";
      if (failure == agents::hop_failure_name(agents::HopFailure::kNotReached)) {
        return absl::StrCat("The MTA could not reach this host at all: the connection was refused or timed out, so "
                            "nothing was said. The 451 4.4.1 is the sending MTA's own status for its queue (RFC "
                            "3463: no answer from host), not a reply from the host.", next);
      }
      if (failure == agents::hop_failure_name(agents::HopFailure::kTurnedAway)) {
        return absl::StrCat("This host answered, but refused before any mail transaction began (at the greeting, or "
                            "to EHLO); the reply quoted is its own.", next);
      }
      if (failure == agents::hop_failure_name(agents::HopFailure::kTlsPolicy)) {
        return absl::StrCat("This MTA's own TLS policy stopped it before any mail: the host offered no STARTTLS, "
                            "or its certificate did not verify, and the policy does not allow plaintext or an "
                            "unverified peer. The 454 is the sender's own status for its queue; the host refused "
                            "nothing (RFC 3207 4.1).", next);
      }
      if (failure == agents::hop_failure_name(agents::HopFailure::kTlsHandshakeFailed)) {
        return absl::StrCat("The TLS handshake with this host failed, and the sender's policy needs TLS, so it will "
                            "not send the message there in plaintext.", next);
      }
      return absl::StrCat("This host could not be reached, or turned the connection away before the transaction.",
                          next);
    }
    case K::kQueueRelay: return "The next hop answered 250: it now has the message, and this MTA's job for that recipient is done.";
    case K::kQueueDefer: return "A temporary failure (4xx, or no answer): the message stays in the queue and will be retried later (RFC 5321 4.5.4.1).";
    case K::kQueueWait: {
      std::int64_t next = 0;
      if (absl::SimpleAtoi(detail(e, sim::detail_key::kNextAttemptUs), &next)) {
        return absl::StrCat("The queue will retry in ", sim::duration_text(absl::Microseconds(next - e.time_us)),
                            ". The wait doubles after each failure, from 300 s up to 4000 s, and the message is returned "
                            "after 5 days (Postfix's minimal_backoff_time, maximal_backoff_time, maximal_queue_lifetime).");
      }
      return "The message waits in the queue for its next attempt.";
    }
    case K::kQueueRetry: return "The retry time has come: a new delivery attempt starts.";
    case K::kQueueBounce: return "A permanent failure (5xx): the MTA gives up on this recipient and returns the message to the envelope sender with a delivery status notification (RFC 5321 4.2.5, RFC 3464).";
    case K::kQueueExpire: return "The message spent longer in the queue than allowed (5 days by default) and is returned to its sender with status 4.4.7 (RFC 3463).";
    case K::kMessageDsn: return "A bounce: a delivery status notification (RFC 3464), sent with the null sender <> so that it can never bounce in turn.";
    case K::kQueueBounceDropped: return "The failed message was itself a bounce (null sender <>), so no notification is sent: bouncing a bounce could loop forever (RFC 5321 4.5.5).";
    case K::kQueueRfc1047: return "The connection died after the final dot but before the reply: the next hop may have the message. Retrying may deliver it twice, which is better than losing it (RFC 1047).";
    case K::kQueueDone: return "Every recipient is settled; the message leaves the queue.";
    case K::kQueueRecover: return "After a restart the MTA found the message in its spool on disk and carries on with it.";
    case K::kQueueSpoolError: return "The MTA could not write to (or remove from) its spool on disk. A message it cannot store is not accepted: the client gets 451 and keeps it (RFC 5321 4.2.5, 6.1). A queue file it cannot update or remove is tried again, so nothing is lost; at worst a message is delivered twice after a restart.";
    case K::kMailboxDeliver: return "The delivery agent (MDA) filed the message into the user's mailbox, adding Return-Path (the envelope sender) and a last Received header (RFC 5321 4.4). The journey is over.";
    case K::kHostDown: return "The host goes down: its connections are cut and it answers nothing until it comes back. Mail it had accepted stays in its queue.";
    case K::kHostUp: return "The host is back; queued mail can flow again.";
    case K::kNetPartition: return "The network between two hosts fails: nothing gets through until it heals.";
    case K::kNetHeal: return "The network between the two hosts works again.";
    case K::kTlsHandshake: return explain_tls_handshake(e);
    case K::kTlsEstablished: return "The server completed a TLS handshake with its client: protocol version and cipher are settled, and everything from here on is encrypted. After STARTTLS the SMTP session restarts and the client must say EHLO again (RFC 3207 4.2); with implicit TLS (port 465) SMTP only begins now, with the greeting (RFC 8314 3.3).";
    case K::kTlsFailed: return "The TLS handshake failed: the two sides found no protocol version or cipher in common, or one side sent something that was not TLS. The connection cannot be used any more, because both sides expected TLS on it (RFC 3207 4.1).";
    case K::kTlsFallback: return "Opportunistic TLS: since the handshake failed, the sender connects again and this time does not ask for STARTTLS, so the message goes in plaintext rather than not at all (Postfix does the same at smtp_tls_security_level = may).";
    case K::kAttackStrip: return "An attacker on the path changed the server's EHLO reply: the STARTTLS line now reads XXXXXXXA, so the client believes the server has no TLS. STARTTLS is negotiated in plaintext, which is what makes this downgrade possible (RFC 3207 6; RFC 8314 explains why implicit TLS avoids it).";
    case K::kAttackRead: return "The attacker reads a plaintext line as it crosses the link: envelope addresses, passwords sent with AUTH, and the message itself are all visible without TLS.";
    case K::kAttackBlind: return "The bytes on the link are now TLS records: the attacker sees only ciphertext, and cannot change it without both sides noticing.";
    case K::kFaultDns: return "The scenario changes DNS from here on.";
    case K::kFaultReply: return "The scenario makes a server answer a chosen reply at a chosen step.";
  }
  return {};
}

}  // namespace smtplab::scenarios
