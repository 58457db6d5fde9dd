// Virtual time as people read it, in one place for every part that shows it
// (the stepper, the expectations, the explanations, the queue's own texts,
// the visualizer):
//   clock_text:    a moment of the run, "00:05:00.266" ("2d 03:00:00.000" past a day);
//   duration_text: a length of time, "5m", "1h30m", "250ms": below 10 s to the
//                  millisecond or tenth, above to the second (never
//                  "4m59.99982s"). It is written in the scenario grammar, so it
//                  can be pasted back into a file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace smtplab::sim {

std::string clock_text(std::int64_t virtual_us);

std::string duration_text(absl::Duration d);
// A countdown ("retry in ..."): rounded up to the second first, so that it
// never says 0s while there is time left.
std::string countdown_text(absl::Duration left);

}  // namespace smtplab::sim
