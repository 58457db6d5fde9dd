// What the world looks like after the first N events of a trace: hosts and
// their roles, queues, mailboxes, links, connections with their transcripts,
// and every message's status. Built only from the trace, never from an
// agent: the same state comes from a live run or a .jsonl file.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

enum class Role { kMua, kMsa, kMta, kMda, kOther };
std::string_view role_name(Role role);
// The role a trace event's agent field names ("mta" -> kMta).
Role role_of_agent(std::string_view agent);

struct QueueEntry {
  std::string message_id;  // the Message-ID, the same at every hop
  std::string queue_id;
  std::string from, to;
  enum class State { kQueued, kInFlight, kDeferred } state = State::kQueued;
  std::int64_t next_attempt_us = 0;  // when deferred
  int attempts = 0;
  std::string last_reply;  // why it was deferred
  friend bool operator==(const QueueEntry&, const QueueEntry&) = default;
};

struct MailboxEntry {
  std::string message_id;
  std::string recipient;
  std::size_t event = 0;  // the mailbox.deliver event
  friend bool operator==(const MailboxEntry&, const MailboxEntry&) = default;
};

struct HostState {
  std::set<Role> roles;
  bool up = true;
  std::map<std::string, QueueEntry> queue;  // by queue id
  std::vector<MailboxEntry> mailbox;
  friend bool operator==(const HostState&, const HostState&) = default;
};

// Text shared between snapshots of the world (a message's text does not
// change once recorded); compared by content.
class SharedText {
 public:
  SharedText() = default;
  explicit SharedText(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}
  const std::string& str() const { return text_ ? *text_ : empty(); }
  bool empty_text() const { return str().empty(); }
  friend bool operator==(const SharedText& a, const SharedText& b) { return a.str() == b.str(); }

 private:
  static const std::string& empty() {
    static const std::string e;
    return e;
  }
  std::shared_ptr<const std::string> text_;
};

// A line of a transcript: the event that carries it (its text is the
// event's), so snapshots of long runs stay small.
struct TranscriptLine {
  std::size_t event = 0;  // index into the trace
  char who = 'C';         // 'C' client, 'S' server, '*' a note (TLS, discarded input)
  bool pipelined = false;  // a command sent in one write with the command above it
  friend bool operator==(const TranscriptLine&, const TranscriptLine&) = default;
};

struct ConnectionState {
  std::uint64_t id = 0;
  std::string client, server;  // hosts
  bool open = true;
  bool tls = false;
  std::vector<TranscriptLine> lines;
  friend bool operator==(const ConnectionState&, const ConnectionState&) = default;
};

struct LinkState {
  int open_connections = 0;
  bool partitioned = false;
  // kTlsUnverified: encrypted, but the certificate did not verify (the client's view).
  enum class Security { kUnknown, kPlaintext, kTls, kTlsUnverified, kTlsFailed } security = Security::kUnknown;
  bool attacked = false;  // an attacker rewrote something on it
  friend bool operator==(const LinkState&, const LinkState&) = default;
};

struct MessageState {
  std::string message_id;
  std::string from;
  std::string subject;  // from message.submit, when it shows one
  std::vector<std::string> hops;  // hosts that queued it, in order
  std::map<std::string, std::string> recipients;  // address -> "queued", "delivered", "bounced", "deferred"
  bool is_bounce = false;  // a DSN the queue generated
  // The text, when the trace has it (full level): as the client composed
  // it, then what each hop put on top, in hop order.
  SharedText headers, body;
  std::vector<std::pair<std::string, SharedText>> added;  // host, header lines
  SharedText content;  // a bounce's whole text (RFC 3464)
  // The message as it stands after the last hop: newest headers first.
  std::string current_text() const;
  std::vector<std::size_t> events;  // message-level events about it
  friend bool operator==(const MessageState&, const MessageState&) = default;
};

class WorldState {
 public:
  // Applies one event (the next in the trace, at `index`).
  void apply(const sim::TraceEvent& event, std::size_t index);

  const std::map<std::string, HostState>& hosts() const { return hosts_; }
  const std::map<std::uint64_t, ConnectionState>& connections() const { return connections_; }
  // Keyed by the two hosts in name order.
  const std::map<std::pair<std::string, std::string>, LinkState>& links() const { return links_; }
  const std::map<std::string, MessageState>& messages() const { return messages_; }
  std::size_t applied() const { return applied_; }
  std::int64_t now_us() const { return now_us_; }

  static std::pair<std::string, std::string> link_key(const std::string& a, const std::string& b);
  friend bool operator==(const WorldState&, const WorldState&) = default;

 private:
  HostState& host(const std::string& name);
  LinkState& link(const std::string& a, const std::string& b);
  MessageState& message(const std::string& id);

  std::map<std::string, HostState> hosts_;
  std::map<std::uint64_t, ConnectionState> connections_;
  std::map<std::pair<std::string, std::string>, LinkState> links_;
  std::map<std::string, MessageState> messages_;
  std::size_t applied_ = 0;
  std::int64_t now_us_ = 0;
};

}  // namespace smtplab::viz
