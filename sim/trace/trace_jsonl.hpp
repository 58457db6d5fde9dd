// The trace as JSON Lines: one JSON object per event, keys in a fixed order,
// so the same run gives byte-identical files. The schema is in docs/trace.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sim/trace/trace_event.hpp"

namespace smtplab::sim {

std::string to_json_line(const TraceEvent& event);  // without the newline
// Errors name the line (given) and the column.
absl::StatusOr<TraceEvent> parse_json_line(std::string_view line, std::size_t line_number);

absl::Status write_jsonl(const std::vector<TraceEvent>& events, const std::string& path);
// A truncated or malformed file is an error naming FILE:LINE:COLUMN.
absl::StatusOr<std::vector<TraceEvent>> read_jsonl(const std::string& path);

}  // namespace smtplab::sim
