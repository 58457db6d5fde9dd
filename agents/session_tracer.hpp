// Records what an SMTP server session sees into the run's trace: every
// command and reply line (each once, from the server's side, which sees both),
// the message text's size, STARTTLS and protocol errors.
#pragma once

#include <cstdint>
#include <string>

#include "agents/smtp/session_event.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::agents {

class SessionTracer : public smtp::SessionObserver {
 public:
  SessionTracer(sim::Trace& trace, std::string host, std::string agent, std::string peer, std::uint64_t connection)
      : trace_(trace), host_(std::move(host)), agent_(std::move(agent)), peer_(std::move(peer)), connection_(connection) {}

  void on_event(const smtp::SessionEvent& event) override;

 private:
  void record(sim::EventKind kind, std::string_view text, int code, std::string explain,
              sim::TraceEvent::Details details = {});
  sim::Trace& trace_;
  std::string host_, agent_, peer_;
  std::uint64_t connection_;
};

}  // namespace smtplab::agents
