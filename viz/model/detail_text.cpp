#include "viz/model/detail_text.hpp"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sim/time_text.hpp"
#include "sim/trace/trace_kinds.hpp"

namespace smtplab::viz {

std::string detail_text(const sim::TraceEvent& event, const std::string& key, const std::string& value) {
  namespace k = sim::detail_key;
  if (key == k::kNextAttemptUs) {
    std::int64_t at = 0;
    if (!absl::SimpleAtoi(value, &at)) return absl::StrCat("next attempt: (", value, "?)");
    return absl::StrCat("next attempt: ", sim::clock_text(at), ", ",
                        sim::duration_text(absl::Microseconds(at - event.time_us)), " later");
  }
  // Whole message text: its size here, its lines in the message inspector.
  if (key == k::kContent || key == k::kHeaders || key == k::kBody || key == k::kAdded) {
    const auto lines = std::count(value.begin(), value.end(), '\n');
    return absl::StrCat(key, ": ", value.size(), " octets, ", lines, " lines (the Message section shows them)");
  }
  return absl::StrCat(key, ": ", value);
}

}  // namespace smtplab::viz
