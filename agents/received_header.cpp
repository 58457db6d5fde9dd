#include "agents/received_header.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agents/message_composer.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {
namespace {

// "127.0.0.1:4000" -> "127.0.0.1"; "[::1]:4000" -> "IPv6:::1" (RFC 5321 4.1.3).
std::string address_literal(const std::string& peer) {
  if (!peer.empty() && peer[0] == '[') return absl::StrCat("IPv6:", peer.substr(1, peer.find(']') - 1));
  return peer.substr(0, peer.rfind(':'));
}

}  // namespace

std::string received_header(const smtp::SessionState& state, const smtp::Envelope& envelope,
                            const std::string& by_host, const std::string& id, absl::Time when) {
  // RFC 3848: the "with" protocol names say how the message came in.
  std::string protocol = state.lmtp ? "LMTP" : state.esmtp ? "ESMTP" : "SMTP";
  if (state.tls_active) protocol += "S";
  if (!state.authenticated_user.empty()) protocol += "A";
  std::string header = absl::StrCat("Received: from ", state.helo_domain, " ([", address_literal(state.peer_address),
                                    "])\r\n\tby ", by_host, " (smtplab) with ", protocol, " id ", id);
  if (envelope.recipients.size() == 1) absl::StrAppend(&header, "\r\n\tfor ", envelope.recipients[0].path.to_string());
  absl::StrAppend(&header, "; ", format_rfc5322_date(when), "\r\n");
  return header;
}

std::string return_path_header(const smtp::Envelope& envelope) {
  return absl::StrCat("Return-Path: ", envelope.reverse_path.to_string(), "\r\n");
}

int count_received_headers(std::string_view message) {
  int count = 0;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const std::size_t eol = message.find('\n', pos);
    const std::string_view line = message.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (line.empty() || line == "\r") break;  // end of the header section
    if (absl::StartsWithIgnoreCase(av(line), "received:")) ++count;
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return count;
}

}  // namespace smtplab::agents
