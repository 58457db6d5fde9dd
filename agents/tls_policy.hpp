// How an agent uses TLS as a client, named after Postfix's
// smtp_tls_security_level so instructors can carry the words over, and how
// each handshake is told in the trace.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agents/smtp/client_session.hpp"
#include "sim/tls/tls_channel.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::agents {

enum class TlsLevel {
  kNone,     // never STARTTLS
  kMay,      // opportunistic: STARTTLS when offered, any certificate, plaintext otherwise (RFC 7435)
  kEncrypt,  // TLS or no delivery, any certificate
  kVerify,   // TLS with a certificate that verifies, or no delivery (RFC 7672 DANE, RFC 8461 MTA-STS enforce)
};

std::optional<TlsLevel> parse_tls_level(std::string_view text);  // "none", "may", "encrypt", "verify"
// What message.submit's details.policy says for TLS from the first byte
// (RFC 8314) instead of a STARTTLS level.
inline constexpr char kImplicitTlsPolicyName[] = "implicit";
std::string_view tls_level_name(TlsLevel level);
smtp::ClientTlsMode session_tls_mode(TlsLevel level);
inline bool requires_verification(TlsLevel level) { return level == TlsLevel::kVerify; }

struct ClientTlsPolicy {
  TlsLevel level = TlsLevel::kNone;
  std::shared_ptr<const tls::TlsContext> context;  // trusted roots; needed for any level but none
};

// Fills kind, text, explain and details of `event` for a client's view of a
// handshake with `server` (finished or failed), under `level`.
void describe_client_handshake(const tls::HandshakeReport& report, const std::string& server, TlsLevel level,
                               sim::TraceEvent& event);
// The same for a server's view of a handshake with `client`.
void describe_server_handshake(const tls::HandshakeReport& report, const std::string& client, sim::TraceEvent& event);

}  // namespace smtplab::agents
