// The student's view of a run: each trace event with its virtual time, who
// speaks to whom, the exact SMTP line, and a paragraph on what it means.
// Interactive on a terminal (Enter: next, n: next message-level event,
// b: back, c: continue to the end, q: quit); everything at once in a pipe
// unless --interactive yes, which then reads one key per line.
// At each delivery it shows the message as the mailbox stored it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/terminal.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::cli {

struct StepperOptions {
  bool interactive = false;
  // In a pipe each explanation is printed once, the first time it applies.
  bool explain_every_time = false;
  // The message a mailbox.deliver event filed, as stored (shown under it);
  // unset or nullopt: not shown.
  std::function<std::optional<std::string>(const sim::TraceEvent&)> stored_message;
};

void run_stepper(const std::vector<sim::TraceEvent>& events, const Style& style, const StepperOptions& options);

// One event as the stepper shows it (without the explanation).
std::string format_event_line(const sim::TraceEvent& event, const Style& style);

}  // namespace smtplab::cli
