#include "viz/model/ladder.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "sim/time_text.hpp"

namespace smtplab::viz {
namespace {

using sim::EventKind;
using sim::TraceEvent;

bool opens_connection(EventKind kind) {
  return kind == EventKind::kConnOpen || kind == EventKind::kConnRefused || kind == EventKind::kConnTimeout;
}

std::map<std::uint64_t, LadderIndex::ConnectionEnds> connection_ends(const std::vector<TraceEvent>& events) {
  std::map<std::uint64_t, LadderIndex::ConnectionEnds> ends;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (e.connection == 0 || ends.count(e.connection) != 0) continue;
    // The network records the opening from the client's side; a connection
    // first seen in a server's line (a trace that starts mid-way) is read
    // from there.
    LadderIndex::ConnectionEnds c{i, e.host, e.peer};
    if (!opens_connection(e.kind)) std::swap(c.client, c.server);
    ends.emplace(e.connection, std::move(c));
  }
  return ends;
}

bool is_reuse(const TraceEvent& e) {
  return e.kind == EventKind::kQueueAttempt && absl::StartsWith(e.text, "reusing");
}

bool is_wire_or_connection_note(EventKind kind) {
  switch (kind) {
    case EventKind::kSmtpStartTls:  // the 220 that answers STARTTLS says it
    case EventKind::kTlsHandshake:  // the client's view; tls.established is on the connection
      return false;
    default:
      return true;
  }
}

// Message events worth a note on the ladder: where the message is and why it
// waits. Relays and queue exits repeat what the 250 above them said.
bool is_message_note(EventKind kind) {
  switch (kind) {
    case EventKind::kMessageSubmit:
    case EventKind::kMessageSubmitted:
    case EventKind::kMessageRejected:
    case EventKind::kQueueEnqueue:
    case EventKind::kQueueAttempt:
    case EventKind::kQueueHopFailed:
    case EventKind::kQueueDefer:
    case EventKind::kQueueWait:
    case EventKind::kQueueRetry:
    case EventKind::kQueueBounce:
    case EventKind::kQueueExpire:
    case EventKind::kMessageDsn:
    case EventKind::kQueueBounceDropped:
    case EventKind::kMailboxDeliver:
    case EventKind::kTlsFailed:
    case EventKind::kTlsFallback:
      return true;
    default:
      return false;
  }
}

bool is_role(std::string_view agent) { return agent == "mua" || agent == "msa" || agent == "mta" || agent == "mda"; }

class LadderBuilder {
 public:
  LadderBuilder(const std::vector<TraceEvent>& events, const std::map<std::uint64_t, LadderIndex::ConnectionEnds>& ends)
      : events_(events), ends_(ends) {}

  void add(std::size_t index) {
    const TraceEvent& e = events_[index];
    if (e.connection != 0 && ends_.count(e.connection) != 0) {
      add_on_connection(index);
    } else {
      note(index, e.host);
    }
  }

  Ladder finish(std::string title) {
    std::stable_sort(keyed_.begin(), keyed_.end(),
                     [](const Keyed& a, const Keyed& b) { return a.key < b.key; });
    Ladder ladder;
    ladder.title = std::move(title);
    for (auto& [key, row] : keyed_) {
      if (!ladder.rows.empty()) {
        const std::int64_t gap = row.time_us - ladder.rows.back().time_us;
        if (gap >= kLadderGapUs) {
          LadderRow g;
          g.kind = LadderRowKind::kGap;
          g.event = row.event;
          g.last_event = row.event;
          g.time_us = row.time_us;
          g.gap_us = gap;
          g.label = sim::duration_text(absl::Microseconds(gap));
          ladder.rows.push_back(std::move(g));
        }
      }
      ladder.rows.push_back(std::move(row));
    }
    // A lane is named by the role its host plays in the run.
    for (LadderLane& lane : lanes_) {
      for (const TraceEvent& e : events_) {
        if (e.host == lane.host && is_role(e.agent)) {
          lane.agent = e.agent;
          break;
        }
      }
    }
    ladder.lanes = std::move(lanes_);
    return ladder;
  }

 private:
  struct Keyed {
    std::pair<std::size_t, std::size_t> key;  // (event index, place in a batch)
    LadderRow row;
  };
  struct OnConnection {
    bool encrypted = false;
    std::optional<std::size_t> last_command;  // in keyed_
    std::optional<std::size_t> last_reply;    // in keyed_, while it may continue
    std::size_t batch_length = 0;
  };

  int lane(const std::string& host) {
    for (std::size_t i = 0; i < lanes_.size(); ++i) {
      if (lanes_[i].host == host) return static_cast<int>(i);
    }
    lanes_.push_back(LadderLane{host, ""});
    return static_cast<int>(lanes_.size() - 1);
  }

  LadderRow& push(std::size_t index, LadderRowKind kind, int from, int to, std::string label,
                  std::size_t batch_place = 0, std::size_t key_index = 0) {
    const TraceEvent& e = events_[index];
    LadderRow row;
    row.kind = kind;
    row.event = index;
    row.last_event = index;
    row.time_us = e.time_us;
    row.from = from;
    row.to = to;
    row.label = std::move(label);
    row.connection = e.connection;
    keyed_.push_back(Keyed{{batch_place == 0 ? index : key_index, batch_place}, std::move(row)});
    return keyed_.back().row;
  }

  void note(std::size_t index, const std::string& host) {
    const int l = lane(host);
    push(index, LadderRowKind::kNote, l, l, events_[index].text);
  }

  void add_on_connection(std::size_t index) {
    const TraceEvent& e = events_[index];
    const LadderIndex::ConnectionEnds& ends = ends_.at(e.connection);
    const bool first_seen = state_.count(e.connection) == 0;
    OnConnection& c = state_[e.connection];
    if (first_seen) {
      // Shown from the middle (a reused connection): was TLS already up?
      for (std::size_t i = ends.first; i < index; ++i) {
        if (events_[i].connection == e.connection && events_[i].kind == EventKind::kTlsEstablished) c.encrypted = true;
      }
    }
    const int client = lane(ends.client), server = lane(ends.server);
    if (e.kind != EventKind::kSmtpReply) c.last_reply.reset();
    switch (e.kind) {
      case EventKind::kConnOpen:
        push(index, LadderRowKind::kConnect, client, server, absl::StrCat("TCP connect ", e.text));
        return;
      case EventKind::kConnRefused:
      case EventKind::kConnTimeout:
        push(index, LadderRowKind::kConnectFailed, client, server, e.text);
        return;
      case EventKind::kConnClose:
      case EventKind::kConnReset:
        push(index, LadderRowKind::kClose, client, server, e.text);
        return;
      case EventKind::kSmtpCommand: {
        const std::string* pipelined = e.detail(sim::detail_key::kPipelined);
        if (pipelined != nullptr && *pipelined == "yes" && c.last_command) {
          // Written together with the command before it: drawn before the
          // replies that came after that one (RFC 2920 section 3.1).
          Keyed& first = keyed_[*c.last_command];
          if (first.row.batch == 0) {
            first.row.batch = ++batches_;
            c.batch_length = 0;
          }
          const int batch = first.row.batch;
          const std::size_t key = first.key.first;
          LadderRow& row = push(index, LadderRowKind::kCommand, client, server, e.text, ++c.batch_length, key);
          row.batch = batch;
          row.encrypted = c.encrypted;
          return;
        }
        LadderRow& row = push(index, LadderRowKind::kCommand, client, server, e.text);
        row.encrypted = c.encrypted;
        c.last_command = keyed_.size() - 1;
        return;
      }
      case EventKind::kSmtpReply: {
        // A reply's lines arrive together (RFC 5321 section 4.2.1): "250-"
        // says more follow.
        if (c.last_reply) {
          LadderRow& row = keyed_[*c.last_reply].row;
          row.more.push_back(e.text);
          row.last_event = index;
          if (!(e.text.size() > 3 && e.text[3] == '-')) c.last_reply.reset();
          return;
        }
        LadderRow& row = push(index, LadderRowKind::kReply, server, client, e.text);
        row.encrypted = c.encrypted;
        if (e.text.size() > 3 && e.text[3] == '-') c.last_reply = keyed_.size() - 1;
        return;
      }
      case EventKind::kSmtpData: {
        std::string what = e.text;
        if (what.size() > 2 && what.front() == '(' && what.back() == ')') what = what.substr(1, what.size() - 2);
        LadderRow& row = push(index, LadderRowKind::kData, client, server, what);
        row.encrypted = c.encrypted;
        return;
      }
      case EventKind::kTlsEstablished: {
        const std::string* version = e.detail(sim::detail_key::kVersion);
        const std::string* cipher = e.detail(sim::detail_key::kCipher);
        push(index, LadderRowKind::kTls, client, server,
             version != nullptr && cipher != nullptr ? absl::StrCat("TLS handshake: ", *version, ", ", *cipher)
                                                     : e.text);
        c.encrypted = true;
        return;
      }
      case EventKind::kTlsFailed:
        push(index, LadderRowKind::kTls, client, server, e.text);
        return;
      default:
        if (is_wire_or_connection_note(e.kind)) note(index, e.host);
        return;
    }
  }

  const std::vector<TraceEvent>& events_;
  const std::map<std::uint64_t, LadderIndex::ConnectionEnds>& ends_;
  std::vector<LadderLane> lanes_;
  std::vector<Keyed> keyed_;
  std::map<std::uint64_t, OnConnection> state_;
  int batches_ = 0;
};

}  // namespace

// The index, in one pass over the trace. A message goes onto a connection
// when its host submits or attempts it: the next connection that host opens
// to that peer (first come, first served, so two attempts to one peer get
// one connection each), or for a "reusing" attempt the one it opened last;
// and it is on the connection it was received over (its queue.enqueue). On a
// reused connection its part ends where the next message's attempt begins.
LadderIndex::LadderIndex(const std::vector<TraceEvent>& events) : events_(&events) {
  ends_ = connection_ends(events);
  using Pair = std::pair<std::string, std::string>;
  std::map<Pair, std::vector<std::pair<std::size_t, std::uint64_t>>> by_pair;  // (first event, id), in order
  for (const auto& [id, c] : ends_) by_pair[{c.client, c.server}].emplace_back(c.first, id);
  for (auto& [pair, list] : by_pair) std::sort(list.begin(), list.end());
  std::map<Pair, std::size_t> next_unclaimed;
  std::map<std::uint64_t, std::vector<std::pair<std::size_t, std::string>>> reuses;  // conn -> (attempt, message)
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TraceEvent& e = events[i];
    if (e.connection != 0) connection_events_[e.connection].push_back(i);
    if (e.message.empty()) continue;
    if (seen.insert(e.message).second) messages_.push_back(e.message);
    if (is_message_note(e.kind)) message_notes_[e.message].push_back(i);
    auto& spans = spans_[e.message];
    if (is_reuse(e) || e.kind == EventKind::kQueueAttempt || e.kind == EventKind::kMessageSubmit) {
      const auto list = by_pair.find({e.host, e.peer});
      if (list == by_pair.end()) continue;
      const auto& opened = list->second;
      if (is_reuse(e)) {
        const auto after = std::upper_bound(opened.begin(), opened.end(), std::pair{i, std::uint64_t{0}});
        if (after == opened.begin()) continue;
        const std::uint64_t conn = std::prev(after)->second;
        spans.emplace(conn, Span{i});
        reuses[conn].emplace_back(i, e.message);
      } else {
        std::size_t& k = next_unclaimed[{e.host, e.peer}];
        while (k < opened.size() && opened[k].first <= i) ++k;
        if (k < opened.size()) spans.emplace(opened[k++].second, Span{});
      }
    } else if (e.connection != 0) {
      spans.emplace(e.connection, Span{});
    }
  }
  for (auto& [message, spans] : spans_) {
    for (auto& [conn, span] : spans) {
      const auto r = reuses.find(conn);
      if (r != reuses.end()) {
        for (const auto& [at, other] : r->second) {
          if (other != message && at > span.from && at < span.until) span.until = at;
        }
      }
      by_connection_[conn].emplace_back(span, message);
    }
  }
}

Ladder LadderIndex::connection_ladder(std::uint64_t connection) const {
  const auto it = ends_.find(connection);
  if (it == ends_.end()) return Ladder{absl::StrCat("Connection ", connection, " (not in this run)"), {}, {}};
  LadderBuilder builder(*events_, ends_);
  for (const std::size_t i : connection_events_.at(connection)) builder.add(i);
  return builder.finish(absl::StrCat("Connection ", connection, ": ", it->second.client, " -> ", it->second.server));
}

Ladder LadderIndex::message_ladder(std::string_view message) const {
  std::vector<std::size_t> rows;
  if (const auto spans = spans_.find(std::string(message)); spans != spans_.end()) {
    for (const auto& [conn, span] : spans->second) {
      const auto on = connection_events_.find(conn);
      if (on == connection_events_.end()) continue;
      for (const std::size_t i : on->second) {
        if (i >= span.from && i < span.until) rows.push_back(i);
      }
    }
  }
  if (const auto notes = message_notes_.find(std::string(message)); notes != message_notes_.end()) {
    rows.insert(rows.end(), notes->second.begin(), notes->second.end());
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  LadderBuilder builder(*events_, ends_);
  for (const std::size_t i : rows) builder.add(i);
  return builder.finish(absl::StrCat("Message ", std::string(message), ", hop by hop"));
}

std::vector<std::uint64_t> LadderIndex::connections_without_message() const {
  std::vector<std::pair<std::size_t, std::uint64_t>> left;
  for (const auto& [id, c] : ends_) {
    if (by_connection_.count(id) == 0) left.emplace_back(c.first, id);
  }
  std::sort(left.begin(), left.end());
  std::vector<std::uint64_t> out;
  for (const auto& [first, id] : left) out.push_back(id);
  return out;
}

std::optional<std::string> LadderIndex::message_of_event(std::size_t index) const {
  if (index >= events_->size()) return std::nullopt;
  const TraceEvent& e = (*events_)[index];
  if (!e.message.empty()) return e.message;
  const auto on = by_connection_.find(e.connection);
  if (e.connection == 0 || on == by_connection_.end()) return std::nullopt;
  // On a reused connection, the message whose part the event is in.
  const std::pair<Span, std::string>* best = nullptr;
  for (const auto& entry : on->second) {
    const Span& span = entry.first;
    if (index >= span.from && index < span.until && (best == nullptr || span.from > best->first.from)) best = &entry;
  }
  return best == nullptr ? std::nullopt : std::optional<std::string>(best->second);
}

Ladder connection_ladder(const std::vector<TraceEvent>& events, std::uint64_t connection) {
  return LadderIndex(events).connection_ladder(connection);
}

Ladder message_ladder(const std::vector<TraceEvent>& events, std::string_view message) {
  return LadderIndex(events).message_ladder(message);
}

std::vector<std::string> messages_in(const std::vector<TraceEvent>& events) { return LadderIndex(events).messages(); }

std::vector<std::uint64_t> connections_without_message(const std::vector<TraceEvent>& events) {
  return LadderIndex(events).connections_without_message();
}

std::optional<std::string> message_of_event(const std::vector<TraceEvent>& events, std::size_t index) {
  return LadderIndex(events).message_of_event(index);
}

}  // namespace smtplab::viz
