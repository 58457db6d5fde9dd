// The receiving side of the MTA: its SMTP server policy and the queue entry.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agents/message_composer.hpp"
#include "agents/message_headers.hpp"
#include "agents/mta/mta.hpp"
#include "agents/policies/greylist.hpp"
#include "agents/received_header.hpp"
#include "agents/smtp_listener.hpp"

namespace smtplab::agents {

Mta::Mta(HostContext context, MtaSettings settings) : context_(std::move(context)), settings_(std::move(settings)) {
  for (auto& d : settings_.local_domains) d = absl::AsciiStrToLower(d);
  if (context_.dns != nullptr) router_ = std::make_unique<MxRouter>(*context_.dns, context_.host, context_.rng);
}

Mta::~Mta() {
  for (const auto& [id, scheduled] : timers_) context_.clock.cancel(scheduled.timer);
  for (const auto& [id, timer] : spool_retries_) context_.clock.cancel(timer);
}

absl::Status Mta::start() {
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
  if (auto s = recover(); !s.ok()) return s;
  return listen_smtp(context_, settings_.port, *this, endpoint, settings_.agent_name);
}

bool Mta::trusted(const smtp::SessionState& state) const {
  if (settings_.open_relay || !state.authenticated_user.empty()) return true;
  const std::string client = client_address(state);
  return std::find(settings_.relay_clients.begin(), settings_.relay_clients.end(), client) !=
         settings_.relay_clients.end();
}

bool Mta::is_local_domain(const std::string& domain) const {
  const std::string d = absl::AsciiStrToLower(domain);
  return std::find(settings_.local_domains.begin(), settings_.local_domains.end(), d) != settings_.local_domains.end();
}

std::string Mta::next_queue_id() { return absl::StrFormat("Q%06d", next_id_++); }

std::optional<smtp::Reply> Mta::on_connect(const smtp::SessionState& state) {
  for (const auto& h : hooks_) {
    if (auto r = h->on_connect(state)) return r;
  }
  return std::nullopt;
}

std::optional<smtp::Reply> Mta::on_auth(const smtp::SessionState&, const smtp::AuthAttempt& attempt) {
  auto it = settings_.users.find(attempt.user);
  if (it != settings_.users.end() && it->second == attempt.password) return std::nullopt;
  return smtp::make_reply(535, "5.7.8", "Authentication credentials invalid");
}

std::optional<smtp::Reply> Mta::on_mail(const smtp::SessionState& state, const smtp::Command& command) {
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

std::optional<smtp::Reply> Mta::on_rcpt(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                        const smtp::Command& command) {
  const std::string domain = absl::AsciiStrToLower(command.path.mailbox.domain);
  const bool ours = std::find(settings_.relay_domains.begin(), settings_.relay_domains.end(), domain) !=
                    settings_.relay_domains.end();
  const bool local = command.path.is_postmaster || is_local_domain(domain) || ours;
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

smtp::Reply Mta::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope, std::string message) {
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
  q.id = next_queue_id();
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
  if (!spool_write(q, "not accepted: the client is answered 451 and keeps the message")) {
    // Not stored, not accepted: a 4xx keeps the message with the client (RFC 5321 4.2.5, 6.1).
    return smtp::make_reply(451, "4.3.0", "Error: queue file write error");
  }
  QueuedMessage& queued = enqueue(std::move(q), state.connection_id, state.helo_domain, prefix);
  if (!trusted(state)) {
    for (const auto& h : hooks_) h->on_accepted(state, envelope);
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: queued as ", queued.id));
}

QueuedMessage& Mta::enqueue(QueuedMessage message, std::uint64_t connection, const std::string& origin,
                            const std::string& added) {
  const std::string id = message.id;
  auto [it, inserted] = queue_.emplace(id, std::move(message));
  QueuedMessage& m = it->second;
  std::string to;
  for (const auto& r : m.recipients) absl::StrAppend(&to, to.empty() ? "" : ",", r.path.mailbox.to_string());
  std::vector<std::pair<std::string, std::string>> details = {{"queue_id", m.id},
                                                              {"from", m.reverse_path.to_string()},
                                                              {"to", to},
                                                              {"octets", std::to_string(m.content.size())},
                                                              {"origin", origin}};
  // The message itself, for the visualizer's inspector: what this hop added,
  // or (a bounce we made) the whole notification. Full traces only.
  if (context_.trace != nullptr && context_.trace->level() == sim::TraceLevel::kFull) {
    if (!added.empty()) details.emplace_back("added", added);
    if (m.is_bounce && origin == "dsn") details.emplace_back("content", m.content.substr(0, 8192));
  }
  trace(sim::EventKind::kQueueEnqueue, m, absl::StrCat("queued ", m.id, " from ", m.reverse_path.to_string(), " for ", to),
        {}, std::move(details), connection);
  schedule_attempt(id, absl::ZeroDuration());
  return m;
}

void Mta::trace(sim::EventKind kind, const QueuedMessage& m, std::string text, std::string explain,
                std::vector<std::pair<std::string, std::string>> details, std::uint64_t connection, std::string peer) {
  if (context_.trace == nullptr || !context_.trace->wants(kind)) return;
  sim::TraceEvent e;
  e.kind = kind;
  e.host = context_.host;
  e.agent = settings_.agent_name;
  e.message = m.message_id.empty() ? m.id : m.message_id;
  e.connection = connection;
  e.peer = std::move(peer);
  e.text = std::move(text);
  e.explain = explain.empty() ? std::string(name_of(kind)) : std::move(explain);
  e.details = std::move(details);
  if (e.detail("queue_id") == nullptr) e.details.insert(e.details.begin(), {"queue_id", m.id});
  context_.trace->record(std::move(e));
}

}  // namespace smtplab::agents
