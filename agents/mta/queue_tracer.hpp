// How the MTA's receiving side and its queue manager tell the trace about a
// message: every event names the host, the agent ("mta" or "msa"), the
// message (its Message-ID, the same at every hop) and this MTA's queue id.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agents/host_context.hpp"
#include "agents/mta/mail_queue.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents {

class QueueTracer {
 public:
  using Details = std::vector<std::pair<std::string, std::string>>;

  QueueTracer(const HostContext& context, const std::string& agent_name)
      : context_(context), agent_name_(agent_name) {}

  // Whether the trace keeps message contents (full level).
  bool full() const {
    return context_.trace != nullptr && context_.trace->level() == sim::TraceLevel::kFull;
  }

  // `explain` empty: the kind's name is the explanation key.
  void record(sim::EventKind kind, const QueuedMessage& message, std::string text, std::string explain,
              Details details = {}, std::uint64_t connection = 0, std::string peer = {}) const {
    if (context_.trace == nullptr || !context_.trace->wants(kind)) return;
    sim::TraceEvent e;
    e.kind = kind;
    e.host = context_.host;
    e.agent = agent_name_;
    e.message = message.message_id.empty() ? message.id : message.message_id;
    e.connection = connection;
    e.peer = std::move(peer);
    e.text = std::move(text);
    e.explain = explain.empty() ? std::string(name_of(kind)) : std::move(explain);
    bool has_queue_id = false;
    for (const auto& [k, v] : details) has_queue_id = has_queue_id || k == sim::detail_key::kQueueId;
    if (has_queue_id) {
      e.details = std::move(details);
    } else {
      // The queue id first, then the caller's: built in one allocation,
      // where inserting at the front would move and grow the vector.
      e.details.reserve(details.size() + 1);
      e.details.emplace_back(sim::detail_key::kQueueId, message.id);
      for (auto& d : details) e.details.push_back(std::move(d));
    }
    context_.trace->record(std::move(e));
  }

 private:
  const HostContext& context_;
  const std::string& agent_name_;
};

}  // namespace smtplab::agents
