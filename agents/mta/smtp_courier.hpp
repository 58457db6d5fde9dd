// The courier that speaks SMTP to the next hop, over the connection cache
// (a connection per message, or Postfix-style reuse), with the MTA's
// outgoing TLS policy, timeouts and HELO name.
#pragma once

#include "agents/host_context.hpp"
#include "agents/mta/courier.hpp"
#include "agents/smtp_connection_cache.hpp"

namespace smtplab::agents {

struct SmtpCourierSettings {
  ClientTlsPolicy tls;  // its context; the level comes with each request
  ClientTimeouts timeouts;
  absl::Duration connect_timeout = absl::Seconds(30);  // Postfix smtp_connect_timeout
  ConnectionCacheSettings connection_cache;
};

class SmtpCourier : public Courier {
 public:
  SmtpCourier(HostContext context, SmtpCourierSettings settings)
      : context_(context), settings_(std::move(settings)), connections_(context, settings_.connection_cache) {}

  bool reuses_connection(const HopRequest& request) const override;
  void deliver(const HopRequest& request, smtp::OutgoingMessage message, Done done) override;

  const SmtpConnectionCache& connections() const { return connections_; }

 private:
  SmtpDestination destination(const HopRequest& request) const;

  HostContext context_;
  SmtpCourierSettings settings_;
  SmtpConnectionCache connections_;
};

}  // namespace smtplab::agents
