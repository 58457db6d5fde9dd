// How the queue manager hands a message on: a courier delivers one message
// to one next hop and reports one typed outcome (chasquid's courier; Postfix's
// smtp(8) as its queue manager sees it). The queue decides what an outcome
// means: try the next MX, fall back to plaintext, settle each recipient.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agents/mta/mx_router.hpp"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp/reply.hpp"
#include "agents/tls_policy.hpp"
#include "sim/tls/tls_channel.hpp"

namespace smtplab::agents {

// Why no mail transaction took place at a next hop.
// As the trace names them (details.failure of queue.hop_failed).
enum class HopFailure {
  kNone,                // a transaction took place: every recipient has its reply
  kNotReached,          // refused, timed out, or the connection ended before a refusal
  kTurnedAway,          // the server answered, and refused before MAIL was accepted
  kTlsHandshakeFailed,  // the TLS handshake failed (opportunistic TLS may retry in plaintext)
  kTlsPolicy,           // this MTA's TLS policy stopped it: no STARTTLS offered, or no verified certificate
};
// "not_reached", "turned_away", "tls_failed", "tls_policy" ("" for kNone).
std::string_view hop_failure_name(HopFailure failure);

struct HopOutcome {
  HopFailure failure = HopFailure::kNone;
  // Without a transaction: the server's refusal (kTurnedAway), or this MTA's
  // own 451 4.4.1 naming what went wrong, for the queue and the bounce.
  smtp::Reply reply;
  // Without a transaction and without a refusal: what happened, in the
  // link's words ("connection to 192.0.2.17:25 timed out").
  std::string why;
  // With a transaction: what became of each recipient, in the order given;
  // a positive reply means the next hop took it. Recipients the connection
  // left without an answer get this MTA's own 451 4.4.2.
  std::vector<smtp::Reply> recipients;
  // The final dot went out but no reply came back: the next hop may have the
  // message, and a retry may deliver it twice (RFC 1047).
  bool maybe_delivered = false;
};

struct HopRequest {
  NextHop hop;
  int port = 25;
  TlsLevel tls = TlsLevel::kNone;
  std::string helo_domain;
  // Speak LMTP (RFC 2033): the hand-over to the domain's own mailbox server.
  bool lmtp = false;
  // Hears each TLS handshake made for this delivery.
  std::function<void(const tls::HandshakeReport&)> on_handshake;
};

class Courier {
 public:
  using Done = std::function<void(const HopOutcome&)>;
  virtual ~Courier() = default;
  // Whether deliver() would go over a connection that is already open.
  virtual bool reuses_connection(const HopRequest& request) const = 0;
  // Delivers `message`; `done` runs once, with the outcome.
  virtual void deliver(const HopRequest& request, smtp::OutgoingMessage message, Done done) = 0;
};

}  // namespace smtplab::agents
