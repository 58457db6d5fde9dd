// The nothing-lost check, done on the trace alone: every message an agent
// accepted (answered 250 to) must, for each recipient, have been handed to
// the next hop (which then has it), filed into a mailbox, or returned to its
// sender with a DSN, or still be queued with a retry scheduled. A message may
// arrive twice only in the RFC 1047 window (the connection died after the
// final dot, before the reply); such duplicates are counted, not failed.
#pragma once

#include <string>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::agents {

struct AuditReport {
  std::size_t accepted = 0;       // (hop, message, recipient) triples taken responsibility for
  std::size_t relayed = 0;
  std::size_t delivered = 0;      // filed into mailboxes
  std::size_t bounced = 0;        // returned (or dropped for a null sender)
  std::size_t still_queued = 0;
  std::size_t duplicates = 0;     // extra copies, all inside RFC 1047 windows
  std::vector<std::string> problems;  // empty when nothing was lost

  bool ok() const { return problems.empty(); }
  std::string summary() const;
};

// `drained`: the run ended because nothing was left to do (no attempt can be
// in flight); otherwise messages in an attempt count as still queued.
AuditReport audit_deliveries(const std::vector<sim::TraceEvent>& events, bool drained);

}  // namespace smtplab::agents
