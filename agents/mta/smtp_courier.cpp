#include "agents/mta/smtp_courier.hpp"

#include "absl/strings/str_cat.h"
#include "agents/smtp/reply_reason.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {
namespace {

// What the queue needs to know of one SMTP transaction.
HopOutcome outcome_of(const SmtpOutcome& outcome, const std::string& host, std::size_t recipients) {
  const smtp::TransactionResult& r = outcome.result;
  HopOutcome out;
  if (!r.mail_reply) {
    // No transaction happened. Without one nothing was delivered, whatever
    // the server said.
    const auto deciding = r.deciding_reply();
    const bool refused = deciding && !deciding->is_positive();
    // A refusal the client made up (its TLS policy) is not the server's.
    const bool by_policy = refused && deciding->reason == smtp::reply_reason::kClientTlsPolicy;
    out.failure = outcome.tls_handshake_failed ? HopFailure::kTlsHandshakeFailed
                  : by_policy                  ? HopFailure::kTlsPolicy
                  : refused                    ? HopFailure::kTurnedAway
                                               : HopFailure::kNotReached;
    out.reply = refused ? *deciding
                        : smtp::make_reply(451, "4.4.1", absl::StrCat("connect to ", host, ": ", av(outcome.why)));
    if (!refused) out.why = std::string(outcome.why);
    return out;
  }
  out.maybe_delivered = r.maybe_delivered;
  for (std::size_t k = 0; k < recipients; ++k) {
    const smtp::Reply* reply = r.recipient_reply(k);
    if (reply != nullptr && (r.recipient_accepted(k) || !reply->is_positive())) {
      out.recipients.push_back(*reply);
      continue;
    }
    out.recipients.push_back(smtp::make_reply(
        451, "4.4.2",
        absl::StrCat("lost connection with ", host, ": ", r.error.empty() ? std::string(outcome.why) : r.error)));
  }
  return out;
}

}  // namespace

std::string_view hop_failure_name(HopFailure failure) {
  switch (failure) {
    case HopFailure::kNone: return "";
    case HopFailure::kNotReached: return "not_reached";
    case HopFailure::kTurnedAway: return "turned_away";
    case HopFailure::kTlsHandshakeFailed: return "tls_failed";
    case HopFailure::kTlsPolicy: return "tls_policy";
  }
  return "";
}

SmtpDestination SmtpCourier::destination(const HopRequest& request) const {
  const TlsLevel level = settings_.tls.context ? request.tls : TlsLevel::kNone;
  SmtpDestination to;
  to.key = absl::StrCat(request.hop.host, " [", request.hop.address, "]:", request.port, " tls ",
                        static_cast<int>(level), request.lmtp ? " lmtp" : "");
  to.address = request.hop.address;
  to.port = request.port;
  to.timeouts = settings_.timeouts;
  to.connect_timeout = settings_.connect_timeout;
  to.client.helo_domain = request.helo_domain;
  to.client.lmtp = request.lmtp;
  to.client.starttls = session_tls_mode(level);
  if (level != TlsLevel::kNone) {
    to.tls.context = settings_.tls.context;
    to.tls.server_name = request.hop.host;
    to.tls.clock = &context_.clock;
    to.tls.require_verified = requires_verification(level);
    to.tls.on_handshake = request.on_handshake;
  }
  return to;
}

bool SmtpCourier::reuses_connection(const HopRequest& request) const {
  return connections_.has_idle(destination(request).key);
}

void SmtpCourier::deliver(const HopRequest& request, smtp::OutgoingMessage message, Done done) {
  const std::size_t recipients = message.recipients.size();
  connections_.send(destination(request), std::move(message),
                    [host = request.hop.host, recipients, done = std::move(done)](const SmtpOutcome& outcome) {
                      done(outcome_of(outcome, host, recipients));
                    });
}

}  // namespace smtplab::agents
