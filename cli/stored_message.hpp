// The message as a mailbox holds it, for `smtplab step` (at each delivery)
// and `smtplab run --show-messages`: the lessons ask students to read its
// Received: headers, so the tools show it, headers first.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "cli/terminal.hpp"
#include "scenarios/scenario_world.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::cli {

// What the mailbox.deliver event `delivery` filed: the bytes the world's MDA
// stored for it (Return-Path and Received first); nullopt if it has none.
std::optional<std::string> stored_message_of(const scenarios::ScenarioWorld& world, const sim::TraceEvent& delivery);

// The message under a title line, each line behind "| ": every header line,
// then the body up to `max_body_lines` lines (the rest counted, not shown).
std::string format_stored_message(std::string_view title, std::string_view content, std::string_view indent,
                                  std::size_t max_body_lines, const Style& style);

}  // namespace smtplab::cli
