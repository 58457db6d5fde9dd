// A mail user agent: composes an RFC 5322 message and submits it to its MSA
// on port 587 with AUTH (RFC 6409), then reports what became of each
// recipient, as a mail client shows "sent" or an error dialog.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agents/host_context.hpp"
#include "agents/message_composer.hpp"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"
#include "agents/smtp_connection_cache.hpp"
#include "agents/tls_policy.hpp"

namespace smtplab::agents {

struct MuaSettings {
  std::string msa_host;      // for the trace
  std::string msa_address;
  int msa_port = 587;        // RFC 6409 submission
  std::optional<smtp::ClientCredentials> credentials;
  smtp::PipeliningMode pipelining = smtp::PipeliningMode::kAuto;
  ClientTimeouts timeouts;
  // STARTTLS to the MSA; a mail client set to "STARTTLS" is level verify.
  ClientTlsPolicy tls;
  // RFC 8314 (port 465): TLS from the first byte instead of STARTTLS.
  bool implicit_tls = false;
  // Tells apart Message-IDs of several MUAs on one host ("1.<tag>.mua@host").
  std::string message_id_tag;
  // Send the next message over the same submission session while it is
  // open, as a client sending out a full outbox does. Off: a session per message.
  ConnectionCacheSettings connection_cache;
};

struct Submission {
  std::string from;                 // envelope sender and From:
  std::vector<std::string> to;      // recipients (To:)
  std::string subject;
  std::string body;
};

class Mua {
 public:
  Mua(HostContext context, MuaSettings settings)
      : context_(std::move(context)), settings_(std::move(settings)), connections_(context_, settings_.connection_cache) {}

  // Composes and submits; `done` gets the transaction's result. Returns the
  // Message-ID given to the message.
  std::string submit(const Submission& submission,
                     std::function<void(const smtp::TransactionResult&)> done = {});
  std::size_t submitted() const { return next_id_ - 1; }

 private:
  HostContext context_;
  MuaSettings settings_;
  SmtpConnectionCache connections_;
  std::uint64_t next_id_ = 1;
};

}  // namespace smtplab::agents
