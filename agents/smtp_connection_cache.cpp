#include "agents/smtp_connection_cache.hpp"

#include <algorithm>
#include <optional>
#include <utility>

namespace smtplab::agents {

struct SmtpConnectionCache::Connection {
  std::string key;
  std::shared_ptr<smtp::ClientSession> session;
  // Owned by the network connection; null once it has closed.
  SmtpClientEndpoint* endpoint = nullptr;
  std::map<std::size_t, Done> waiting;  // by index into session->results()
  absl::Duration opened;
  int transactions = 0;
  std::optional<sim::TimerId> idle_timer;  // set while parked

  bool reusable(const ConnectionCacheSettings& s, absl::Duration now) const {
    return now - opened < s.reuse_time_limit && (s.reuse_count_limit <= 0 || transactions < s.reuse_count_limit);
  }
};

SmtpConnectionCache::~SmtpConnectionCache() {
  for (auto& [key, c] : idle_) {
    if (c->idle_timer) context_.clock.cancel(*c->idle_timer);
  }
}

bool SmtpConnectionCache::has_idle(const std::string& key) const {
  if (!settings_.enabled) return false;
  for (auto [it, end] = idle_.equal_range(key); it != end; ++it) {
    if (it->second->reusable(settings_, context_.clock.now())) return true;
  }
  return false;
}

void SmtpConnectionCache::send(const SmtpDestination& destination, smtp::OutgoingMessage message, Done done) {
  for (auto it = idle_.find(destination.key); settings_.enabled && it != idle_.end() && it->first == destination.key;
       it = idle_.find(destination.key)) {
    const std::shared_ptr<Connection> c = it->second;
    unpark(c);
    if (!c->reusable(settings_, context_.clock.now())) {
      // Too old to take more: say QUIT and look for another.
      c->session->finish();
      c->endpoint->send_pending();
      continue;
    }
    ++reused_;
    ++c->transactions;
    const std::size_t index = c->session->enqueue(std::move(message));
    c->waiting.emplace(index, std::move(done));
    c->endpoint->send_pending();
    return;
  }
  connect(destination, std::move(message), std::move(done));
}

void SmtpConnectionCache::connect(const SmtpDestination& destination, smtp::OutgoingMessage message, Done done) {
  auto c = std::make_shared<Connection>();
  c->key = destination.key;
  c->session = std::make_shared<smtp::ClientSession>(destination.client);
  c->opened = context_.clock.now();
  c->transactions = 1;
  c->waiting.emplace(c->session->enqueue(std::move(message)), std::move(done));
  if (!settings_.enabled) c->session->finish();
  ++opened_;
  auto closed = [this, c](std::string_view why) {
    const bool tls_failed = c->endpoint != nullptr && c->endpoint->tls_handshake_failed();
    c->endpoint = nullptr;
    unpark(c);
    // With the cache on, every transaction was reported as it ended (the
    // endpoint reports the ones the close ended before this runs); with it
    // off, this is when the one transaction is.
    std::vector<std::size_t> left;
    for (const auto& [index, callback] : c->waiting) left.push_back(index);
    for (std::size_t index : left) report(c, index, why, tls_failed);
  };
  auto endpoint = std::make_unique<SmtpClientEndpoint>(*c->session, destination.timeouts, closed, destination.tls);
  c->endpoint = endpoint.get();
  if (settings_.enabled) {
    endpoint->on_transaction([this, c](std::size_t index, std::string_view why) { transaction_over(c, index, why); });
  }
  context_.network.connect(context_.host, destination.address, destination.port, std::move(endpoint),
                           destination.connect_timeout);
}

void SmtpConnectionCache::transaction_over(const std::shared_ptr<Connection>& c, std::size_t index,
                                           std::string_view why) {
  if (c->waiting.count(index) == 0) return;
  const bool tls_failed = c->endpoint != nullptr && c->endpoint->tls_handshake_failed();
  // Parked before the owner hears the outcome, so a message it sends from
  // `done` can already go over this connection. A session that is still
  // waiting for the reply to an RSET can be parked: a message given to it
  // goes out after that reply.
  if (c->waiting.size() == 1 && c->endpoint != nullptr && c->session->open_for_mail()) {
    if (c->reusable(settings_, context_.clock.now())) {
      park(c);
    } else {
      c->session->finish();  // the endpoint sends QUIT when this callback returns
    }
  }
  const smtp::TransactionResult& r = c->session->results()[index];
  report(c, index, why.empty() ? std::string_view(r.error) : why, tls_failed);
}

void SmtpConnectionCache::report(const std::shared_ptr<Connection>& c, std::size_t index, std::string_view why,
                                 bool tls_failed) {
  auto it = c->waiting.find(index);
  if (it == c->waiting.end()) return;
  Done done = std::move(it->second);
  c->waiting.erase(it);
  done(SmtpOutcome{c->session->results()[index], why, tls_failed});
}

void SmtpConnectionCache::park(const std::shared_ptr<Connection>& c) {
  // It leaves the cache when the idle limit runs out, or earlier when it
  // reaches the reuse time limit: whatever sits in the cache can be reused
  // (so has_idle() tells the truth).
  const absl::Duration left = settings_.reuse_time_limit - (context_.clock.now() - c->opened);
  c->idle_timer = context_.clock.schedule(std::min(settings_.idle_limit, left), [this, c] {
    c->idle_timer.reset();
    unpark(c);
    c->session->finish();
    if (c->endpoint != nullptr) c->endpoint->send_pending();
  });
  idle_.emplace(c->key, c);
}

void SmtpConnectionCache::unpark(const std::shared_ptr<Connection>& c) {
  if (c->idle_timer) {
    context_.clock.cancel(*c->idle_timer);
    c->idle_timer.reset();
  }
  for (auto [it, end] = idle_.equal_range(c->key); it != end; ++it) {
    if (it->second == c) {
      idle_.erase(it);
      return;
    }
  }
}

}  // namespace smtplab::agents
