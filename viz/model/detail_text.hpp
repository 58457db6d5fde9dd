// A trace event's details as the details pane shows them: times as clock and
// countdown ("next attempt: 00:05:00.266, 5m later"), never a raw
// next_attempt_us, and message text summarised (the inspector shows it).
#pragma once

#include <string>

#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

std::string detail_text(const sim::TraceEvent& event, const std::string& key, const std::string& value);

}  // namespace smtplab::viz
