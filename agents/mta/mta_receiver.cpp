// The MTA's receiving side: see mta_receiver.hpp.
#include "agents/mta/mta_receiver.hpp"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agents/message_composer.hpp"
#include "agents/message_headers.hpp"
#include "agents/received_header.hpp"
#include "sim/connection.hpp"

namespace smtplab::agents {

ServerEndpointSettings MtaReceiver::endpoint_settings() const {
  ServerEndpointSettings endpoint = settings_.endpoint;
  endpoint.session.hostname = context_.host;
  if (endpoint.tls) endpoint.session.offer_starttls = true;
  if (settings_.submission) {
    endpoint.session.offer_auth = true;
    // A submission server without a certificate can only take passwords in
    // the clear (RFC 4954 4 and RFC 8314 would rather it did not): lessons
    // about AUTH itself run without TLS.
    if (!endpoint.tls) endpoint.session.auth_requires_tls = false;
  }
  return endpoint;
}

bool MtaReceiver::trusted(const smtp::SessionState& state) const {
  if (settings_.open_relay || !state.authenticated_user.empty()) return true;
  const std::string_view client = sim::address_part(state.peer_address);
  return std::find(settings_.relay_clients.begin(), settings_.relay_clients.end(), client) !=
         settings_.relay_clients.end();
}

std::optional<smtp::Reply> MtaReceiver::on_connect(const smtp::SessionState& state) {
  for (const auto& h : hooks_) {
    if (auto r = h->on_connect(state)) return r;
  }
  return std::nullopt;
}

std::optional<smtp::Reply> MtaReceiver::on_auth(const smtp::SessionState&, const smtp::AuthAttempt& attempt) {
  auto it = settings_.users.find(attempt.user);
  if (it != settings_.users.end() && it->second == attempt.password) return std::nullopt;
  return smtp::make_reply(535, "5.7.8", "Authentication credentials invalid");
}

std::optional<smtp::Reply> MtaReceiver::on_mail(const smtp::SessionState& state, const smtp::Command& command) {
  if (settings_.submission && state.authenticated_user.empty()) {
    // RFC 4954 6 / RFC 6409 4.1: submission needs authentication first.
    return smtp::make_reply(530, "5.7.0", "Authentication required");
  }
  if (!trusted(state)) {
    for (const auto& h : hooks_) {
      if (auto r = h->on_mail(state, command)) return r;
    }
  }
  return std::nullopt;
}

std::optional<smtp::Reply> MtaReceiver::on_rcpt(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                        const smtp::Command& command) {
  const std::string& domain = command.path.mailbox.domain;
  const bool local =
      command.path.is_postmaster || settings_.is_local_domain(domain) || settings_.is_relay_domain(domain);
  if (!local && !trusted(state)) {
    // No open relay (RFC 5321 3.6.2, RFC 2505): Postfix's reject_unauth_destination.
    return smtp::make_reply(554, "5.7.1", absl::StrCat("<", command.path.mailbox.to_string(),
                                                       ">: Relay access denied"));
  }
  if (!trusted(state)) {
    for (const auto& h : hooks_) {
      if (auto r = h->on_rcpt(state, envelope, command)) return r;
    }
  }
  return std::nullopt;
}

smtp::Reply MtaReceiver::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope, std::string message) {
  if (!trusted(state)) {
    for (const auto& h : hooks_) {
      if (auto r = h->on_data_end(state, envelope, message)) return *r;
    }
  }
  const int hops = count_received_headers(message);
  if (hops >= settings_.hop_limit) {
    // RFC 5321 6.3: loops are detected by counting Received headers. RFC 3463 5.4.6: routing loop.
    return smtp::make_reply(554, "5.4.6", absl::StrCat("Too many hops (", hops, " Received headers): mail loop?"));
  }
  QueuedMessage q;
  q.id = queue_.next_queue_id();
  std::string prefix = received_header(state, envelope, context_.host, q.id, context_.clock.wall_now());
  if (settings_.submission) {
    // RFC 6409 8.2 and 8.3: the MSA may add a missing Date and Message-ID.
    if (!find_header(message, "Date")) absl::StrAppend(&prefix, "Date: ", format_rfc5322_date(context_.clock.wall_now()), "\r\n");
    if (!find_header(message, "Message-ID")) absl::StrAppend(&prefix, "Message-ID: <", q.id, "@", context_.host, ">\r\n");
  }
  q.content = prefix + message;
  q.message_id = message_id_of(q.content);
  q.reverse_path = envelope.reverse_path;
  q.params = envelope.mail_params;
  q.is_bounce = envelope.reverse_path.is_null;
  for (const auto& r : envelope.recipients) q.recipients.push_back({r.path, r.params});
  q.arrival = context_.clock.now();
  const std::string queue_id = q.id;
  if (!queue_.accept(std::move(q), Arrival{state.connection_id, state.helo_domain, prefix}).ok()) {
    // Not stored, not accepted: a 4xx keeps the message with the client (RFC 5321 4.2.5, 6.1).
    return smtp::make_reply(451, "4.3.0", "Error: queue file write error");
  }
  if (!trusted(state)) {
    for (const auto& h : hooks_) h->on_accepted(state, envelope);
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: queued as ", queue_id));
}

}  // namespace smtplab::agents
