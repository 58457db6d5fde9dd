#include "agents/audit/delivery_audit.hpp"

#include <map>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace smtplab::agents {
namespace {

std::string detail(const sim::TraceEvent& e, std::string_view name) {
  const std::string* v = e.detail(name);
  return v == nullptr ? std::string() : *v;
}

struct Copy {  // one hop's responsibility for one recipient of one message
  std::string host, queue_id, message, recipient;
  std::int64_t since = 0;
};

}  // namespace

std::string AuditReport::summary() const {
  return absl::StrCat(accepted, " accepted, ", relayed, " relayed, ", delivered, " delivered, ", bounced,
                      " bounced, ", still_queued, " still queued, ", duplicates, " duplicates (RFC 1047); ",
                      problems.empty() ? "nothing lost" : absl::StrCat(problems.size(), " problem(s)"));
}

AuditReport audit_deliveries(const std::vector<sim::TraceEvent>& events, bool drained) {
  AuditReport report;
  // Keyed by (host, queue id, recipient).
  using Key = std::tuple<std::string, std::string, std::string>;
  std::map<Key, Copy> open;                 // accepted, not yet settled
  std::map<Key, sim::EventKind> outcome;    // how it was settled
  std::map<std::pair<std::string, std::string>, sim::EventKind> last_event;  // (host, queue id) -> kind
  // Arrivals per (host, message-id, recipient), to match relays and count copies.
  std::map<Key, int> arrivals;
  std::set<std::string> rfc1047_messages;
  std::set<std::pair<std::string, std::string>> dsn_sent;  // (host, queue id)
  // Hand-offs per (next hop, message-id, recipient): a 250 from the next hop.
  std::map<Key, int> relayed_to;
  std::map<std::pair<std::string, std::string>, std::int64_t> next_attempt;  // (host, queue id) -> time
  std::int64_t end_time = events.empty() ? 0 : events.back().time_us;

  for (const auto& e : events) {
    const std::string qid = detail(e, sim::detail_key::kQueueId);
    if (e.kind == sim::EventKind::kQueueEnqueue) {
      for (const auto& rcpt : absl::StrSplit(detail(e, sim::detail_key::kTo), ',', absl::SkipEmpty())) {
        Key k{e.host, qid, std::string(rcpt)};
        open[k] = Copy{e.host, qid, e.message, std::string(rcpt), e.time_us};
        ++report.accepted;
        ++arrivals[{e.host, e.message, std::string(rcpt)}];
      }
      last_event[{e.host, qid}] = e.kind;
    } else if (e.kind == sim::EventKind::kMailboxDeliver) {
      ++report.delivered;
      ++arrivals[{e.host, e.message, detail(e, sim::detail_key::kRecipient)}];
    } else if (e.kind == sim::EventKind::kQueueRelay || e.kind == sim::EventKind::kQueueBounce || e.kind == sim::EventKind::kQueueExpire) {
      Key k{e.host, qid, detail(e, sim::detail_key::kRecipient)};
      auto it = open.find(k);
      if (it == open.end()) {
        report.problems.push_back(absl::StrCat(e.host, " ", qid, ": ", name_of(e.kind), " for <", std::get<2>(k),
                                               "> which it never accepted (or settled twice)"));
        continue;
      }
      open.erase(it);
      outcome[k] = e.kind;
      if (e.kind == sim::EventKind::kQueueRelay) {
        ++report.relayed;
        ++relayed_to[{detail(e, sim::detail_key::kNextHop), e.message, std::get<2>(k)}];
      } else {
        ++report.bounced;
      }
      last_event[{e.host, qid}] = e.kind;
    } else if (e.kind == sim::EventKind::kMessageSubmitted) {
      // A submission is a hand-off to the MSA like any relay; its details
      // name each recipient and whether it was accepted.
      for (const auto& [rcpt, verdict] : e.details) {
        if (verdict == "accepted") ++relayed_to[{e.peer, e.message, rcpt}];
      }
    } else if (e.kind == sim::EventKind::kMessageDsn || e.kind == sim::EventKind::kQueueBounceDropped) {
      dsn_sent.insert({e.host, qid});
    } else if (e.kind == sim::EventKind::kQueueRfc1047) {
      rfc1047_messages.insert(e.message);
    } else if (e.kind == sim::EventKind::kQueueWait || e.kind == sim::EventKind::kQueueAttempt || e.kind == sim::EventKind::kQueueRetry ||
               e.kind == sim::EventKind::kQueueDone) {
      last_event[{e.host, qid}] = e.kind;
      if (e.kind == sim::EventKind::kQueueWait) {
        std::int64_t t = 0;
        if (absl::SimpleAtoi(detail(e, sim::detail_key::kNextAttemptUs), &t)) next_attempt[{e.host, qid}] = t;
      }
    }
  }

  // Every bounce must have produced a DSN (or been a bounce itself).
  for (const auto& [k, how] : outcome) {
    const auto& [host, qid, rcpt] = k;
    if (how != sim::EventKind::kQueueRelay && !dsn_sent.count({host, qid})) {
      report.problems.push_back(absl::StrCat(host, " ", qid, ": gave up on <", rcpt, "> without telling the sender"));
    }
  }
  // What is still open must still be queued with a retry scheduled in the
  // future. A drained run has no future: there, everything must be settled
  // (every message is delivered, bounced, or expires after its lifetime).
  for (const auto& [k, copy] : open) {
    const std::pair<std::string, std::string> q{copy.host, copy.queue_id};
    const auto last_it = last_event.find(q);
    const std::optional<sim::EventKind> last =
        last_it == last_event.end() ? std::nullopt : std::optional<sim::EventKind>(last_it->second);
    const bool retry_ahead = last == sim::EventKind::kQueueWait && next_attempt.count(q) && next_attempt[q] >= end_time;
    const bool in_flight = last == sim::EventKind::kQueueEnqueue || last == sim::EventKind::kQueueAttempt ||
                           last == sim::EventKind::kQueueRetry;
    const bool waiting = !drained && (retry_ahead || in_flight);
    if (waiting) {
      ++report.still_queued;
    } else {
      report.problems.push_back(absl::StrCat(copy.host, " ", copy.queue_id, ": <", copy.recipient,
                                             "> accepted but neither relayed, delivered, bounced nor queued (last: ",
                                             last ? name_of(*last) : "nothing", "): LOST"));
    }
  }
  // Each hand-off ("250" from the next hop) must match an arrival there, and
  // an arrival with no hand-off to explain it is a duplicate, allowed only in
  // an RFC 1047 window. (A message that loops passes a host more than once,
  // with a hand-off each time: not a duplicate.)
  std::set<Key> keys;
  for (const auto& [k, n] : relayed_to) keys.insert(k);
  for (const auto& [k, n] : arrivals) keys.insert(k);
  for (const auto& k : keys) {
    const auto& [host, message, rcpt] = k;
    const int handed = relayed_to.count(k) ? relayed_to[k] : 0;
    const int arrived = arrivals.count(k) ? arrivals[k] : 0;
    if (arrived < handed) {
      report.problems.push_back(absl::StrCat(host, " acknowledged ", message, " for <", rcpt, "> ", handed,
                                             " time(s) but has ", arrived, " record(s) of it: LOST"));
    } else if (arrived > std::max(handed, 1)) {
      // One arrival needs no hand-off (mail injected from outside, or a
      // submission whose reply was lost); more than that needs one each.
      if (rfc1047_messages.count(message)) {
        report.duplicates += arrived - std::max(handed, 1);
      } else {
        report.problems.push_back(absl::StrCat(host, ": ", arrived, " copies of ", message, " for <", rcpt,
                                               "> but only ", handed, " hand-off(s), and no lost reply to explain them"));
      }
    }
  }
  return report;
}

}  // namespace smtplab::agents
