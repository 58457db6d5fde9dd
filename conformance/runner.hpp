// Runs checks against a server and collects the results, each with the
// transcript that shows it; writes them for people (console) and machines
// (JSON, JUnit XML).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "conformance/check.hpp"

namespace smtplab::conformance {

struct CheckResult {
  const Check* check = nullptr;
  Verdict verdict;
  std::vector<TranscriptLine> transcript;
  double seconds = 0;
};

struct Selection {
  std::vector<std::string> only;  // ids or id prefixes ("security.")
  std::vector<std::string> skip;
};

std::vector<const Check*> select_checks(const Selection& selection);

// `progress` is called before each check with (index, total, check); `wire`
// hears of every connection the checks make (`conform --pcap`).
std::vector<CheckResult> run_checks(const Target& target, const std::vector<const Check*>& checks,
                                    const std::function<void(std::size_t, std::size_t, const Check&)>& progress = {},
                                    const ProbeWire& wire = {});

// True when no MUST requirement failed: the exit status of `smtplab conform`.
bool must_requirements_hold(const std::vector<CheckResult>& results);

std::string console_report(const Target& target, const std::vector<CheckResult>& results, bool color);
std::string json_report(const Target& target, const std::vector<CheckResult>& results);
std::string junit_report(const Target& target, const std::vector<CheckResult>& results);
// The checks themselves (id, group, title, reference, level), as JSON: what
// `conform --list_checks --json FILE` writes, for tools and the docs' tests.
std::string json_check_list(const std::vector<const Check*>& checks);

}  // namespace smtplab::conformance
