// How a sending agent (MTA, MUA) gets its SMTP transactions onto the wire:
// one connection per transaction, or, with the cache on, a connection kept
// open after its transaction so the next message to the same next hop goes
// over it without a new connect, greeting and EHLO. This is Postfix's SMTP
// connection cache (smtp_connection_cache_destinations,
// smtp_connection_cache_time_limit, smtp_connection_reuse_time_limit);
// RFC 5321 3.3 allows any number of transactions in one session.
//
// Only idle connections are cached: a message never waits behind another
// one's transaction; with none idle it gets a connection of its own.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "agents/host_context.hpp"
#include "agents/smtp/client_session.hpp"
#include "agents/smtp_client_endpoint.hpp"

namespace smtplab::agents {

struct ConnectionCacheSettings {
  // Off: each transaction has its own connection, closed with QUIT at once.
  bool enabled = false;
  // An idle connection is closed (QUIT) after this long without a message
  // (Postfix smtp_connection_cache_time_limit).
  absl::Duration idle_limit = absl::Seconds(2);
  // A connection older than this takes no new message (Postfix
  // smtp_connection_reuse_time_limit): it limits how long one server is
  // favoured and how long a session lives.
  absl::Duration reuse_time_limit = absl::Seconds(300);
  // A connection takes at most this many transactions, 0 for no limit
  // (Postfix smtp_connection_reuse_count_limit, whose default is 0). Ours is
  // 100 because a session keeps each transaction's result for its owner.
  int reuse_count_limit = 100;
};

// Where one transaction goes and how to talk to it. Connections are reused
// only between transactions with the same `key`, which must name everything
// that makes two sessions different (next hop, port, TLS level).
struct SmtpDestination {
  std::string key;
  std::string address;
  int port = 25;
  smtp::ClientSettings client;
  ClientTlsOptions tls;  // its on_handshake hears the handshake of a new connection
  ClientTimeouts timeouts;
  absl::Duration connect_timeout = absl::Seconds(30);
};

// What became of one transaction.
struct SmtpOutcome {
  const smtp::TransactionResult& result;
  // Why it ended without a final reply: the connection's end, or the
  // session's own error. Empty when the server answered the message.
  std::string_view why;
  bool tls_handshake_failed = false;  // on the connection it was sent over
};

class SmtpConnectionCache {
 public:
  using Done = std::function<void(const SmtpOutcome&)>;

  SmtpConnectionCache(HostContext context, ConnectionCacheSettings settings)
      : context_(context), settings_(settings) {}
  ~SmtpConnectionCache();
  SmtpConnectionCache(const SmtpConnectionCache&) = delete;
  SmtpConnectionCache& operator=(const SmtpConnectionCache&) = delete;

  // Whether send() to `key` would go over a cached connection now.
  bool has_idle(const std::string& key) const;
  // Sends one message. `done` runs once, when its transaction is over; with
  // the cache off, when its connection has closed (so traces read as before:
  // the reply, QUIT, the close, then the outcome).
  void send(const SmtpDestination& destination, smtp::OutgoingMessage message, Done done);

  std::size_t idle_connections() const { return idle_.size(); }
  std::size_t connections_opened() const { return opened_; }
  std::size_t transactions_reused() const { return reused_; }

 private:
  struct Connection;

  void connect(const SmtpDestination& destination, smtp::OutgoingMessage message, Done done);
  // A transaction ended on a connection that stays open (cache on).
  void transaction_over(const std::shared_ptr<Connection>& c, std::size_t index, std::string_view why);
  // The one way an outcome leaves the cache, whether a transaction ended on
  // an open connection or its connection closed.
  void report(const std::shared_ptr<Connection>& c, std::size_t index, std::string_view why, bool tls_failed);
  void park(const std::shared_ptr<Connection>& c);
  void unpark(const std::shared_ptr<Connection>& c);

  HostContext context_;
  ConnectionCacheSettings settings_;
  std::multimap<std::string, std::shared_ptr<Connection>> idle_;
  std::size_t opened_ = 0;
  std::size_t reused_ = 0;
};

}  // namespace smtplab::agents
