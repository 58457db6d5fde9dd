// The decisions a server makes by policy, kept out of the protocol engine in
// the shape of go-smtp's Backend/Session: the MSA, MTA, MDA and the capture
// sink are each a ServerPolicy over the same ServerSession. Each hook returns
// nullopt to accept with the engine's standard reply, or a reply of its own
// (a 4xx or 5xx refuses; 421 also closes the connection, RFC 5321 3.8).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/command.hpp"
#include "agents/smtp/reply.hpp"

namespace smtplab::smtp {

// What the session knows about the client so far.
struct SessionState {
  std::string peer_address;  // "127.0.0.1:54321", or a simulated address
  std::uint64_t connection_id = 0;  // the link's id for this connection, for the trace
  std::string helo_domain;   // argument of the last EHLO/HELO
  bool esmtp = false;        // EHLO (not HELO) was used
  bool tls_active = false;
  std::string authenticated_user;  // empty until AUTH succeeded
  bool lmtp = false;          // the session speaks LMTP (LHLO was used, RFC 2033)
};

struct Recipient {
  Path path;
  RcptParameters params;
};

struct Envelope {
  Path reverse_path;
  MailParameters mail_params;
  std::vector<Recipient> recipients;  // accepted ones only
};

struct AuthAttempt {
  std::string mechanism;
  std::string authorization_id;  // may be empty
  std::string user;
  std::string password;
};

// Message text handed over as it arrives, for a policy that stores it on the
// way in (the capture sink writes into its Maildir's tmp/ as the bytes come),
// so that memory per connection stays bounded whatever the message size.
// Destroyed without commit() (the message was refused, or the connection
// ended first), it throws away whatever it wrote.
class MessageWriter {
 public:
  virtual ~MessageWriter() = default;
  // The next part of the text, unstuffed, in order. A failure to store it is
  // kept and reported by commit() as its reply.
  virtual void write(std::string_view text) = 0;
  // The whole message is in and passed every check of the engine: store it
  // and answer. 250 only once it is stored durably (RFC 5321 6.1).
  virtual Reply commit() = 0;
  // Whether this writer makes the message durable together with other
  // sessions' (a group commit: one sync for every final dot that arrived
  // meanwhile). Then the session does not call commit(): it waits, reading
  // nothing more, and its owner calls ServerSession::start_commit(), which
  // calls commit_later(). `done` may run on any thread, but only after
  // commit_later has returned; the writer must not need itself to be alive
  // by then (the connection may have gone).
  virtual bool commits_later() const { return false; }
  virtual void commit_later(std::function<void(Reply)> done) { done(commit()); }
};

class ServerPolicy {
 public:
  virtual ~ServerPolicy() = default;
  virtual std::optional<Reply> on_connect(const SessionState&) { return std::nullopt; }
  virtual std::optional<Reply> on_helo(const SessionState&) { return std::nullopt; }
  // Credentials check; the default refuses everyone (535 5.7.8, RFC 4954 6).
  virtual std::optional<Reply> on_auth(const SessionState&, const AuthAttempt&) {
    return make_reply(535, "5.7.8", "Authentication credentials invalid");
  }
  virtual std::optional<Reply> on_mail(const SessionState&, const Command&) { return std::nullopt; }
  virtual std::optional<Reply> on_rcpt(const SessionState&, const Envelope&, const Command&) {
    return std::nullopt;
  }
  virtual std::optional<Reply> on_vrfy(const SessionState&, const Command&) { return std::nullopt; }
  // The message is complete. Return 250 only once it is stored as durably as
  // the owner promises: a 250 here is the promise not to lose it (RFC 5321 6.1).
  virtual Reply on_message(const SessionState&, const Envelope&, std::string message) = 0;
  // The same over LMTP (RFC 2033 4.2): one reply per recipient of the
  // envelope, in order, each the promise for that recipient alone. The
  // default gives every recipient on_message's one reply.
  virtual std::vector<Reply> on_message_each(const SessionState& state, const Envelope& envelope,
                                             std::string message) {
    return std::vector<Reply>(envelope.recipients.size(), on_message(state, envelope, std::move(message)));
  }
  // Message text begins (after DATA's 354, or with the first BDAT chunk). A
  // writer returned here receives the text as it arrives, and on_message is
  // not called for this message; null (the default) has the engine collect
  // the whole message and call on_message.
  virtual std::unique_ptr<MessageWriter> open_message(const SessionState&, const Envelope&) { return nullptr; }
  virtual void on_reset(const SessionState&) {}
};

}  // namespace smtplab::smtp
