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
#include "scenarios/explanations_internal.hpp"

// The entry points: an event explained by its kind (and details), and
// `smtplab explain` for a code pasted from a transcript. SMTP words are in
// explanations_smtp.cpp, DNS in explanations_dns.cpp.
namespace smtplab::scenarios {

using namespace explanation_parts;

namespace {

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

// capture.finding, by what the import found (sim::capture_finding).
std::string explain_capture_finding(const sim::TraceEvent& e) {
  namespace f = sim::capture_finding;
  const std::string finding = detail(e, sim::detail_key::kFinding);
  if (finding == f::kMidstream) {
    return "The capture began after this connection had opened: its handshake, and maybe the greeting and the "
           "first commands, are not in it. What follows is shown from where the capture starts.";
  }
  if (finding == f::kGap) {
    return "Octets of this connection are missing from the capture (the capturing host dropped packets, or the "
           "capture was cut); what was said there cannot be shown, and what follows is read after the gap.";
  }
  if (finding == f::kBareLf) {
    return "A line here ends in a bare LF (or a lone CR) instead of CRLF. SMTP lines end in CRLF only (RFC 5321 "
           "2.3.8); a server that accepts bare line endings is open to SMTP smuggling, and a conforming client never "
           "sends them.";
  }
  if (finding == f::kSmugglingEnd) {
    return "The message text holds something shaped like an end of data that is not <CRLF>.<CRLF> (such as "
           "<LF>.<LF>). A server that takes it as the end would read what follows as new commands: a second, "
           "smuggled message with a forged sender (SMTP smuggling, CVE-2023-51766 and kin; RFC 5321 4.1.1.4).";
  }
  if (finding == f::kUnadvertisedPipelining) {
    return "The client sent this command before the reply to the one before it, although the server did not offer "
           "PIPELINING in its EHLO reply. Without the extension a client must wait for each reply (RFC 2920 3.1; "
           "RFC 5321 4.1.1).";
  }
  if (finding == f::kEncrypted) {
    return "From here on the connection is TLS: without the session's secrets the capture shows only records, "
           "not what was said inside them. A key log (SSLKEYLOGFILE, or smtplab's --keylog) lets Wireshark decrypt "
           "them (RFC 3207, RFC 8446).";
  }
  if (finding == f::kNotSmtp) {
    return "The server's bytes here are not SMTP replies (a reply is a three-digit code, then a space or a hyphen, "
           "RFC 5321 4.2): another protocol on this port, or the capture lost its start.";
  }
  return "Something the import of the capture noticed.";
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
      if (e.explain == absl::StrCat("command.", smtp::reply_answers::kAuthResponse)) {
        return "A line of the SASL exchange AUTH began: the client's answer to the server's 334 challenge, in "
               "base64 (RFC 4954 4). With LOGIN the first is the user name, the second the password.";
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
    case K::kAttackStrip: return "An attacker on the path changed the server's EHLO reply on its way: the EHLO reply in the trace is what the server sent, STARTTLS included; the client got the same lines with XXXXXXXA in its place, a keyword it does not know and ignores, so it believes the server has no TLS. STARTTLS is negotiated in plaintext, which is what makes this downgrade possible (RFC 3207 6; RFC 8314 explains why implicit TLS avoids it).";
    case K::kAttackRead: return "The attacker reads a plaintext line as it crosses the link: envelope addresses, passwords sent with AUTH, and the message itself are all visible without TLS.";
    case K::kAttackBlind: return "The bytes on the link are now TLS records: the attacker sees only ciphertext, and cannot change it without both sides noticing.";
    case K::kCaptureFinding: return explain_capture_finding(e);
    case K::kFaultDns: return "The scenario changes DNS from here on.";
    case K::kFaultReply: return "The scenario makes a server answer a chosen reply at a chosen step.";
  }
  return {};
}

}  // namespace smtplab::scenarios
