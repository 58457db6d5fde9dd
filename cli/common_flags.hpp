// Flags that several subcommands share (send and conform; --tls also sink,
// in tls_flag.cpp): abseil flags are process-wide, so each name is defined
// once.
#pragma once

#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(std::string, from);
ABSL_DECLARE_FLAG(std::string, to);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(std::string, auth);
ABSL_DECLARE_FLAG(bool, starttls);
ABSL_DECLARE_FLAG(bool, tls);
ABSL_DECLARE_FLAG(bool, tls_verify);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, tls_server_name);
