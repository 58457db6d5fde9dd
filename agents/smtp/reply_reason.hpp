// Why a reply was given, named once: the refinement of a reply's explanation
// key in the trace ("reply.451" + ".greylisted"); and the one refinement of a
// command's, AUTH sent in the clear. The engine or the policy
// that decides a reply sets smtp::Reply::reason where it decides, so the
// stepper and the visualizer explain the decision, not the reply's wording.
// scenarios/explanations.cpp has a text for each.
#pragma once

namespace smtplab::smtp::reply_reason {

// The engine's own.
inline constexpr char kNoValidRecipients[] = "no_valid_recipients";  // 554 to DATA after every RCPT failed (RFC 2920 3.1)
// Policies (agents/policies).
inline constexpr char kGreylisted[] = "greylisted";     // 451 4.7.1 (RFC 6647)
inline constexpr char kRateLimited[] = "rate_limited";  // 421 4.7.0, too many messages from one client

// A reply the client makes up, never sent by any server: its TLS policy stops
// it before mail (no STARTTLS offered, or a certificate that did not verify).
inline constexpr char kClientTlsPolicy[] = "client_tls_policy";  // 454 4.7.0 / 4.7.5 (RFC 3207 4.1, RFC 3463)

// Commands, refined the same way ("command.auth" + ".in_clear").
inline constexpr char kInClear[] = "in_clear";  // AUTH without TLS: the password crosses in plaintext (RFC 4954 4)

// Every reply reason above, for the test that each has an explanation.
inline constexpr const char* kAll[] = {kNoValidRecipients, kGreylisted, kRateLimited, kClientTlsPolicy};

}  // namespace smtplab::smtp::reply_reason
