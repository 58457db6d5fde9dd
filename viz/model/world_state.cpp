#include "viz/model/world_state.hpp"

#include <algorithm>
#include <iterator>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace smtplab::viz {
Role role_of_agent(std::string_view agent) {
  if (agent == "mua") return Role::kMua;
  if (agent == "msa") return Role::kMsa;
  if (agent == "mta") return Role::kMta;
  if (agent == "mda") return Role::kMda;
  return Role::kOther;
}

namespace {

std::string detail_or(const sim::TraceEvent& e, const char* name, std::string fallback = {}) {
  const std::string* v = e.detail(name);
  return v == nullptr ? fallback : *v;
}

// "submitting \"Lunch\" from <a> to b via c" -> "Lunch".
std::string subject_of_submit(const std::string& text) {
  const auto open = text.find('"');
  const auto close = open == std::string::npos ? open : text.find("\" from <", open + 1);
  return close == std::string::npos ? std::string() : text.substr(open + 1, close - open - 1);
}

std::vector<std::string> split_list(const std::string& text) {
  return absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty());
}

}  // namespace

std::string MessageState::current_text() const {
  std::string out;
  for (auto it = added.rbegin(); it != added.rend(); ++it) out += it->second.str();
  if (!content.empty_text()) return out + content.str();
  out += headers.str();
  if (!body.empty_text()) out += "\r\n" + body.str();
  return out;
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kMua: return "MUA";
    case Role::kMsa: return "MSA";
    case Role::kMta: return "MTA";
    case Role::kMda: return "MDA";
    case Role::kOther: return "host";
  }
  return "host";
}

std::pair<std::string, std::string> WorldState::link_key(const std::string& a, const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

HostState& WorldState::host(const std::string& name) { return hosts_[name]; }
LinkState& WorldState::link(const std::string& a, const std::string& b) { return links_[link_key(a, b)]; }

MessageState& WorldState::message(const std::string& id) {
  MessageState& m = messages_[id];
  m.message_id = id;
  return m;
}

void WorldState::apply(const sim::TraceEvent& e, std::size_t index) {
  ++applied_;
  now_us_ = std::max(now_us_, e.time_us);
  const sim::EventKind k = e.kind;
  if (!e.host.empty()) {
    HostState& h = host(e.host);
    if (const Role r = role_of_agent(e.agent); r != Role::kOther) h.roles.insert(r);
  }
  if (!e.message.empty() && (sim::is_message_level(e) || k == sim::EventKind::kTlsHandshake ||
                             k == sim::EventKind::kTlsEstablished || k == sim::EventKind::kTlsFailed ||
                             k == sim::EventKind::kTlsFallback)) {
    message(e.message).events.push_back(index);
  }

  if (k == sim::EventKind::kConnOpen) {
    ConnectionState& c = connections_[e.connection];
    c.id = e.connection;
    c.client = e.host;
    c.server = e.peer;
    c.open = true;
    host(e.peer);
    ++link(e.host, e.peer).open_connections;
  } else if (k == sim::EventKind::kConnClose || k == sim::EventKind::kConnReset) {
    if (auto it = connections_.find(e.connection); it != connections_.end() && it->second.open) {
      it->second.open = false;
      LinkState& l = link(it->second.client, it->second.server);
      l.open_connections = std::max(0, l.open_connections - 1);
      if (k == sim::EventKind::kConnReset) it->second.lines.push_back({index, '*'});
    }
  } else if (k == sim::EventKind::kSmtpCommand || k == sim::EventKind::kSmtpReply) {
    ConnectionState& c = connections_[e.connection];
    c.id = e.connection;
    if (c.server.empty()) c.server = e.host;
    if (c.client.empty()) c.client = e.peer;
    const bool pipelined = k == sim::EventKind::kSmtpCommand && e.detail(sim::detail_key::kPipelined) != nullptr;
    if (pipelined) {
      // On the wire it came with the command before it, ahead of that
      // command's replies: it goes right after the batch's last command.
      auto after = c.lines.end();
      while (after != c.lines.begin() && std::prev(after)->who == 'S') --after;
      c.lines.insert(after, {index, 'C', true});
    } else {
      c.lines.push_back({index, k == sim::EventKind::kSmtpCommand ? 'C' : 'S'});
    }
  } else if (k == sim::EventKind::kSmtpData || k == sim::EventKind::kSmtpStartTls || k == sim::EventKind::kSmtpDiscarded || k == sim::EventKind::kSmtpError) {
    if (auto it = connections_.find(e.connection); it != connections_.end()) it->second.lines.push_back({index, '*'});
  } else if (k == sim::EventKind::kTlsHandshake || k == sim::EventKind::kTlsEstablished) {
    LinkState& l = link(e.host, e.peer);
    if (k == sim::EventKind::kTlsHandshake) {
      // The client's view comes first (TLS 1.3) and knows the verdict.
      l.security = detail_or(e, sim::detail_key::kVerified) == "yes" ? LinkState::Security::kTls : LinkState::Security::kTlsUnverified;
    } else if (l.security != LinkState::Security::kTlsUnverified) {
      l.security = LinkState::Security::kTls;
    }
    ConnectionState* latest = nullptr;
    for (auto& [id, c] : connections_) {
      if (c.open && link_key(c.client, c.server) == link_key(e.host, e.peer)) {
        c.tls = true;
        latest = &c;
      }
    }
    // The client's verdict on the certificate goes into the transcript too.
    if (k == sim::EventKind::kTlsHandshake && latest != nullptr) latest->lines.push_back({index, '*'});
    if (k == sim::EventKind::kTlsEstablished) {
      if (auto it = connections_.find(e.connection); it != connections_.end()) {
        it->second.tls = true;
        it->second.lines.push_back({index, '*'});
      }
    }
  } else if (k == sim::EventKind::kTlsFailed) {
    link(e.host, e.peer).security = LinkState::Security::kTlsFailed;
  } else if (k == sim::EventKind::kAttackStrip || k == sim::EventKind::kAttackRead) {
    link(e.host, e.peer).attacked = true;
  } else if (k == sim::EventKind::kNetPartition || k == sim::EventKind::kNetHeal) {
    link(e.host, e.peer).partitioned = k == sim::EventKind::kNetPartition;
  } else if (k == sim::EventKind::kHostDown || k == sim::EventKind::kHostUp) {
    host(e.host).up = k == sim::EventKind::kHostUp;
  } else if (k == sim::EventKind::kMessageSubmit) {
    MessageState& m = message(e.message);
    m.from = detail_or(e, sim::detail_key::kFrom);
    m.subject = subject_of_submit(e.text);
    m.headers = SharedText(detail_or(e, sim::detail_key::kHeaders));
    m.body = SharedText(detail_or(e, sim::detail_key::kBody));
    for (const auto& to : split_list(detail_or(e, sim::detail_key::kTo))) m.recipients[to] = "submitting";
  } else if (k == sim::EventKind::kMessageRejected) {
    for (auto& [rcpt, status] : message(e.message).recipients) status = "rejected";
  } else if (k == sim::EventKind::kQueueEnqueue) {
    HostState& h = host(e.host);
    QueueEntry q;
    q.message_id = e.message;
    q.queue_id = detail_or(e, sim::detail_key::kQueueId);
    q.from = detail_or(e, sim::detail_key::kFrom);
    q.to = detail_or(e, sim::detail_key::kTo);
    h.queue[q.queue_id] = q;
    MessageState& m = message(e.message);
    m.hops.push_back(e.host);
    if (q.from == "<>") m.is_bounce = true;
    if (const std::string* a = e.detail(sim::detail_key::kAdded)) m.added.emplace_back(e.host, SharedText(*a));
    if (const std::string* c = e.detail(sim::detail_key::kContent)) m.content = SharedText(*c);
    for (const auto& to : split_list(q.to)) m.recipients[to] = "queued at " + e.host;
  } else if (k == sim::EventKind::kQueueAttempt || k == sim::EventKind::kQueueRetry) {
    if (auto it = host(e.host).queue.find(detail_or(e, sim::detail_key::kQueueId)); it != host(e.host).queue.end()) {
      it->second.state = QueueEntry::State::kInFlight;
      if (k == sim::EventKind::kQueueAttempt) ++it->second.attempts;
    }
  } else if (k == sim::EventKind::kQueueDefer) {
    if (auto it = host(e.host).queue.find(detail_or(e, sim::detail_key::kQueueId)); it != host(e.host).queue.end()) {
      it->second.state = QueueEntry::State::kDeferred;
      it->second.last_reply = detail_or(e, sim::detail_key::kReply);
    }
    message(e.message).recipients[detail_or(e, sim::detail_key::kRecipient)] = "deferred at " + e.host;
  } else if (k == sim::EventKind::kQueueWait) {
    if (auto it = host(e.host).queue.find(detail_or(e, sim::detail_key::kQueueId)); it != host(e.host).queue.end()) {
      it->second.state = QueueEntry::State::kDeferred;
      // A malformed number in a hand-edited trace shows as "no retry time".
      if (!absl::SimpleAtoi(detail_or(e, sim::detail_key::kNextAttemptUs, "0"), &it->second.next_attempt_us)) {
        it->second.next_attempt_us = 0;
      }
    }
  } else if (k == sim::EventKind::kQueueRelay) {
    // The next hop queues (or files) the message before this MTA hears its
    // 250, so "handed on" only replaces a status this host still holds.
    std::string& status = message(e.message).recipients[detail_or(e, sim::detail_key::kRecipient)];
    if (status == "queued at " + e.host || status == "deferred at " + e.host) status = "handed to " + e.peer;
  } else if (k == sim::EventKind::kQueueBounce || k == sim::EventKind::kQueueExpire) {
    message(e.message).recipients[detail_or(e, sim::detail_key::kRecipient)] = "bounced at " + e.host;
  } else if (k == sim::EventKind::kQueueDone) {
    host(e.host).queue.erase(detail_or(e, sim::detail_key::kQueueId));
  } else if (k == sim::EventKind::kMailboxDeliver) {
    host(e.host).mailbox.push_back({e.message, detail_or(e, sim::detail_key::kRecipient), index});
    MessageState& m = message(e.message);
    if (const std::string* a = e.detail(sim::detail_key::kAdded)) m.added.emplace_back(e.host, SharedText(*a));
    m.recipients[detail_or(e, sim::detail_key::kRecipient)] = "delivered into a mailbox at " + e.host;
  }
}

}  // namespace smtplab::viz
