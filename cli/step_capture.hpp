// `smtplab step CAPTURE.pcap[ng]`: a real capture stepped through like a
// run, each SMTP line explained (capture/capture_import.hpp).
#pragma once

#include <string>

#include "cli/stepper.hpp"
#include "cli/terminal.hpp"

namespace smtplab::cli {

// Exit status: 0 when the capture was read, 2 when it could not be (not a
// capture, a link type not read, cut short: said with the offset).
int step_capture(const std::string& path, const Style& style, const StepperOptions& options, bool ladder);

}  // namespace smtplab::cli
