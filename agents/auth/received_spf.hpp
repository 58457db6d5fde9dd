// The Received-SPF header field a receiver adds for an SPF verdict (RFC 7208
// 9.1): the result, a comment a person can read, and the key-value pairs a
// program can (client-ip, envelope-from, helo, receiver, identity, mechanism,
// problem).
#pragma once

#include <string>

#include "agents/auth/spf_check.hpp"

namespace smtplab::auth {

// The whole field, "Received-SPF: ..." without the final CRLF, folded with
// CRLF and a space before 78 columns where it can be (RFC 5322 2.2.3).
std::string received_spf_field(const SpfRequest& request, const SpfVerdict& verdict);

// The comment alone: "domain of a@example.com designates 192.0.2.1 as permitted sender".
std::string spf_verdict_comment(const SpfRequest& request, const SpfVerdict& verdict);

}  // namespace smtplab::auth
