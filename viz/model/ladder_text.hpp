// A ladder diagram as text, for a terminal and for the docs (`smtplab step
// --ladder`): lanes lettered across the top with a legend naming each host,
// time down the left, the line on the wire at the right of its arrow.
#pragma once

#include <string>

#include "viz/model/ladder.hpp"

namespace smtplab::viz {

std::string ladder_text(const Ladder& ladder);

// What a lane's host does, for the legend: "mail transfer agent (MTA)".
std::string role_text(const LadderLane& lane);

}  // namespace smtplab::viz
