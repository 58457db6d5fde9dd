#include "agents/capture_sink.hpp"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smtplab::agents {
namespace {

// "127.0.0.1:4000" -> "127.0.0.1"; "[::1]:4000" -> "IPv6:::1" (RFC 5321 4.1.3).
std::string address_literal(const std::string& peer) {
  if (!peer.empty() && peer[0] == '[') return absl::StrCat("IPv6:", peer.substr(1, peer.find(']') - 1));
  return peer.substr(0, peer.rfind(':'));
}

}  // namespace

CaptureSink::CaptureSink(MaildirStore& store, CaptureSinkSettings settings, std::function<absl::Time()> clock)
    : store_(store), settings_(std::move(settings)), clock_(std::move(clock)) {}

std::optional<smtp::Reply> CaptureSink::admit(std::size_t active_connections) const {
  if (active_connections > settings_.max_connections) {
    return smtp::make_reply(421, "4.7.0", absl::StrCat(settings_.hostname, " Error: too many connections"));
  }
  return std::nullopt;
}

std::string CaptureSink::trace_headers(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                       const std::string& id) const {
  // RFC 3848: the "with" protocol names say how the message came in.
  std::string protocol = state.esmtp ? "ESMTP" : "SMTP";
  if (state.tls_active) protocol += "S";
  if (!state.authenticated_user.empty()) protocol += "A";
  const std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", clock_(), absl::UTCTimeZone());
  // RFC 5321 4.4: Return-Path records the envelope sender at final delivery.
  std::string headers = absl::StrCat("Return-Path: ", envelope.reverse_path.to_string(), "\r\n");
  absl::StrAppend(&headers, "Received: from ", state.helo_domain, " ([", address_literal(state.peer_address),
                  "])\r\n\tby ", settings_.hostname, " (smtplab) with ", protocol, " id ", id);
  // Name the recipient only when there is one, as Postfix does: listing all
  // of them would reveal Bcc recipients to each other.
  if (envelope.recipients.size() == 1) {
    absl::StrAppend(&headers, "\r\n\tfor ", envelope.recipients[0].path.to_string());
  }
  absl::StrAppend(&headers, "; ", date, "\r\n");
  return headers;
}

smtp::Reply CaptureSink::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                    std::string message) {
  const std::size_t n = ++delivered_;
  const std::string id = absl::StrFormat("%X%06X", absl::ToUnixSeconds(clock_()), n);
  auto stored = store_.deliver(trace_headers(state, envelope, id), message);
  if (!stored.ok()) {
    --delivered_;
    // Not stored means not accepted: a 4xx makes the client keep it and retry.
    return smtp::make_reply(451, "4.3.0", absl::StrCat("Error: cannot store message: ", stored.status().message()));
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: queued as ", id));
}

}  // namespace smtplab::agents
