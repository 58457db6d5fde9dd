#include "agents/tls_policy.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

std::optional<TlsLevel> parse_tls_level(std::string_view text) {
  const std::string t = absl::AsciiStrToLower(av(text));
  if (t == "none") return TlsLevel::kNone;
  if (t == "may" || t == "opportunistic") return TlsLevel::kMay;
  if (t == "encrypt") return TlsLevel::kEncrypt;
  if (t == "verify" || t == "required") return TlsLevel::kVerify;
  return std::nullopt;
}

std::string_view tls_level_name(TlsLevel level) {
  switch (level) {
    case TlsLevel::kNone: return "none";
    case TlsLevel::kMay: return "may";
    case TlsLevel::kEncrypt: return "encrypt";
    case TlsLevel::kVerify: return "verify";
  }
  return "?";
}

smtp::ClientTlsMode session_tls_mode(TlsLevel level) {
  switch (level) {
    case TlsLevel::kNone: return smtp::ClientTlsMode::kNone;
    case TlsLevel::kMay: return smtp::ClientTlsMode::kOpportunistic;
    case TlsLevel::kEncrypt:
    case TlsLevel::kVerify: return smtp::ClientTlsMode::kRequired;
  }
  return smtp::ClientTlsMode::kNone;
}

namespace {

void add_certificate_details(const tls::HandshakeReport& r, sim::TraceEvent& e) {
  e.details.emplace_back(sim::detail_key::kVersion, r.version);
  e.details.emplace_back(sim::detail_key::kCipher, r.cipher);
  if (!r.peer_subject.empty()) e.details.emplace_back(sim::detail_key::kSubject, r.peer_subject);
  if (!r.peer_issuer.empty()) e.details.emplace_back(sim::detail_key::kIssuer, r.peer_issuer);
  if (!r.peer_names.empty()) e.details.emplace_back(sim::detail_key::kNames, r.peer_names);
  if (!r.peer_not_after.empty()) e.details.emplace_back(sim::detail_key::kNotAfter, r.peer_not_after);
}

// "certificate has expired" -> "tls.unverified.expired": one explanation per reason.
std::string reason_key(const std::string& verify_result) {
  if (verify_result == "certificate has expired") return "expired";
  if (verify_result == "certificate is not yet valid") return "not_yet_valid";
  if (verify_result == "hostname mismatch") return "wrong_name";
  if (verify_result == "self-signed certificate" || verify_result == "self signed certificate") return "self_signed";
  if (verify_result == "unable to get local issuer certificate") return "unknown_ca";
  return "other";
}

// A failed handshake looks the same from either side. Returns whether it failed.
bool describe_failure(const tls::HandshakeReport& r, const std::string& peer, sim::TraceEvent& e) {
  e.peer = peer;
  if (r.error.empty()) return false;
  e.kind = sim::EventKind::kTlsFailed;
  e.explain = "tls.handshake_failed";
  e.text = absl::StrCat("TLS handshake with ", peer, " failed: ", r.error);
  e.details.emplace_back(sim::detail_key::kError, r.error);
  return true;
}

}  // namespace

void describe_client_handshake(const tls::HandshakeReport& r, const std::string& server, TlsLevel level,
                               sim::TraceEvent& e) {
  e.details.emplace_back(sim::detail_key::kPolicy, std::string(tls_level_name(level)));
  if (describe_failure(r, server, e)) return;
  e.kind = sim::EventKind::kTlsHandshake;
  add_certificate_details(r, e);
  e.details.emplace_back(sim::detail_key::kVerified, r.verified ? "yes" : "no");
  e.details.emplace_back(sim::detail_key::kVerifyResult, r.verify_result);
  std::string what = absl::StrCat(r.version, " with ", server, " (", r.cipher, "); certificate ", r.peer_subject,
                                  " issued by ", r.peer_issuer);
  if (r.verified) {
    e.explain = "tls.verified";
    e.text = absl::StrCat(what, ": verified");
    return;
  }
  e.explain = absl::StrCat("tls.unverified.", reason_key(r.verify_result));
  const char* consequence = level == TlsLevel::kVerify
                                ? "verification is required, so nothing is sent (the message stays queued)"
                                : "encrypted but not authenticated; this policy delivers anyway";
  e.text = absl::StrCat(what, ": NOT verified (", r.verify_result, "); ", consequence);
}

void describe_server_handshake(const tls::HandshakeReport& r, const std::string& client, sim::TraceEvent& e) {
  if (describe_failure(r, client, e)) return;
  e.kind = sim::EventKind::kTlsEstablished;
  e.explain = name_of(e.kind);
  e.text = absl::StrCat("TLS established with ", client, ": ", r.version, ", ", r.cipher);
  add_certificate_details(r, e);
}

}  // namespace smtplab::agents
