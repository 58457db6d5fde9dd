// Every limit and feature switch of a ServerSession, each with the default of
// the RFC or of Postfix that it comes from.
#pragma once

#include <cstddef>
#include <string>

#include "agents/smtp/line_ending.hpp"

namespace smtplab::smtp {

struct ServerSettings {
  std::string hostname = "localhost";  // in the greeting and EHLO reply (RFC 5321 4.3.1)
  std::string greeting_text = "ESMTP smtplab";

  // RFC 5321 4.5.3.1.4: a command line is at least 512 octets with CRLF.
  std::size_t max_command_line_octets = 512;
  // RFC 4954 4: AUTH lines (and SASL responses) may be up to 12288 octets.
  std::size_t max_auth_line_octets = 12288;
  // RFC 5321 4.5.3.1.6: a text line is at least 1000 octets with CRLF.
  std::size_t max_text_line_octets = 1000;
  // RFC 5321 4.5.3.1.8: at least 100 recipients (Postfix smtpd_recipient_limit is 1000).
  std::size_t max_recipients = 100;
  // Postfix message_size_limit (10240000); advertised with SIZE (RFC 1870).
  std::size_t max_message_octets = 10240000;
  // Postfix smtpd_hard_error_limit: after this many errors, 421 and close.
  int max_errors = 20;

  BareLineEnding bare_line_ending = BareLineEnding::kReject;
  // A NUL octet in message text: RFC 5322 2.3 keeps it out of a message's
  // text, and RFC 2045 2.7-2.8 out of 7bit and 8bit data; only BDAT with
  // BODY=BINARYMIME (RFC 3030 3) may carry one. Refused with 554 5.6.0
  // unless this is set (a lesson showing what a lenient server stores).
  bool accept_nul_in_text = false;

  // Extensions offered in the EHLO reply.
  bool offer_pipelining = true;   // RFC 2920
  bool offer_8bitmime = true;     // RFC 6152
  bool offer_smtputf8 = true;     // RFC 6531
  bool offer_chunking = true;     // RFC 3030 (BDAT)
  bool offer_binarymime = false;  // RFC 3030: needs a store that keeps binary as is
  bool offer_dsn = true;          // RFC 3461
  bool offer_enhanced_status_codes = true;  // RFC 2034
  bool offer_starttls = false;    // RFC 3207: only when the owner can do TLS
  // RFC 8314 (port 465): the owner ran the TLS handshake before start(), so
  // the session is protected from its first byte and never offers STARTTLS.
  bool implicit_tls = false;
  // STARTTLS is offered but answered 454 4.7.0 (a server whose key is broken,
  // as Postfix says "TLS not available due to local problem").
  bool starttls_unavailable = false;
  bool offer_auth = false;        // RFC 4954: PLAIN and LOGIN
  bool auth_requires_tls = true;  // RFC 4954 4 / RFC 8314: no plaintext passwords
  bool offer_vrfy = true;         // VRFY answers 252 by default (RFC 5321 3.5.3)

  // Speak LMTP (RFC 2033), as a mailbox server does for its MTA (Dovecot,
  // Postfix's lmtp client): LHLO instead of EHLO/HELO (which get 500, 4.1),
  // DATA without an accepted recipient 503 (4.2), and after the message text
  // one reply per accepted recipient in RCPT order (4.2), so one mailbox can
  // refuse while another takes the message. PIPELINING and
  // ENHANCEDSTATUSCODES, which LMTP requires (5), stay on; CHUNKING is not
  // offered (BDAT's per-recipient replies are left out).
  bool lmtp = false;

};

}  // namespace smtplab::smtp
