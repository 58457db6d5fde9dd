#include "cli/common_flags.hpp"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, server, "", "The SMTP server, HOST:PORT");
ABSL_FLAG(std::string, from, "", "Envelope sender (send: also the From: header)");
ABSL_FLAG(std::string, to, "",
          "Recipient. send: repeat --to for several; conform: a recipient you own, so that test messages are "
          "actually delivered (without it no transaction is completed)");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(10), "Give up on a silent server after this long (per reply)");
