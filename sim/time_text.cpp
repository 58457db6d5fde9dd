#include "sim/time_text.hpp"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace smtplab::sim {

std::string clock_text(std::int64_t virtual_us) {
  const std::int64_t ms = virtual_us / 1000;
  const std::int64_t days = ms / 86400000;
  const std::int64_t rest = ms % 86400000;
  const std::string clock =
      absl::StrFormat("%02d:%02d:%02d.%03d", rest / 3600000, rest / 60000 % 60, rest / 1000 % 60, rest % 1000);
  return days > 0 ? absl::StrCat(days, "d ", clock) : clock;
}

std::string duration_text(absl::Duration d) {
  if (d < absl::ZeroDuration()) return absl::StrCat("-", duration_text(-d));
  if (d == absl::InfiniteDuration()) return "forever";
  if (d < absl::Milliseconds(1)) return absl::StrCat(absl::ToInt64Microseconds(d), "us");
  if (d < absl::Seconds(1)) return absl::StrCat(std::llround(absl::ToDoubleMilliseconds(d)), "ms");
  if (d < absl::Seconds(10)) {
    // 1.5s; a whole number without its ".0".
    const std::int64_t tenths = std::llround(absl::ToDoubleSeconds(d) * 10);
    if (tenths < 100) return tenths % 10 == 0 ? absl::StrCat(tenths / 10, "s") : absl::StrFormat("%.1fs", tenths / 10.0);
  }
  // From ten seconds on, whole seconds, in days, hours, minutes and seconds
  // with the zeros left out: 4m59.99982s is 5m, Postfix's 4000 s backoff is
  // 1h6m40s.
  std::int64_t left = std::llround(absl::ToDoubleSeconds(d));
  std::string out;
  for (const auto& [size, name] : {std::pair<std::int64_t, const char*>{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}) {
    if (left >= size) absl::StrAppend(&out, left / size, name);
    left %= size;
  }
  return out;
}

std::string countdown_text(absl::Duration left) {
  if (left <= absl::ZeroDuration()) return "0s";
  return duration_text(absl::Ceil(left, absl::Seconds(1)));
}

}  // namespace smtplab::sim
