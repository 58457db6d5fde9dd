// When a deferred message is tried again and when the MTA gives up, with
// Postfix's defaults: the wait doubles from minimal_backoff_time (300 s) up
// to maximal_backoff_time (4000 s); after maximal_queue_lifetime (5 days;
// bounce_queue_lifetime for bounces) the message is returned to its sender.
#pragma once

#include <algorithm>

#include "absl/time/time.h"

namespace smtplab::agents {

struct RetrySettings {
  absl::Duration minimal_backoff = absl::Seconds(300);       // Postfix minimal_backoff_time
  absl::Duration maximal_backoff = absl::Seconds(4000);      // Postfix maximal_backoff_time
  absl::Duration maximal_queue_lifetime = absl::Hours(24 * 5);  // Postfix maximal_queue_lifetime
  absl::Duration bounce_queue_lifetime = absl::Hours(24 * 5);   // Postfix bounce_queue_lifetime
};

// The wait before attempt number `attempts + 1`, after `attempts` failed ones.
inline absl::Duration retry_delay(const RetrySettings& s, int attempts) {
  absl::Duration d = s.minimal_backoff;
  for (int i = 1; i < attempts && d < s.maximal_backoff; ++i) d *= 2;
  return std::min(d, s.maximal_backoff);
}

}  // namespace smtplab::agents
