// smtplab conform: point the conformance checks at a server and get
// RFC-referenced verdicts. Exit status 0 only if no MUST requirement failed.
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_split.h"
#include "cli/client_tls.hpp"
#include "cli/common_flags.hpp"
#include "cli/run_capture.hpp"
#include "cli/subcommand.hpp"
#include "cli/terminal.hpp"
#include "conformance/runner.hpp"
#include "sim/loopback/loopback_runtime.hpp"

ABSL_FLAG(std::string, profile, "mx", "mx (a domain's MX), submission (port 587, AUTH) or sink (accepts anything)");
ABSL_FLAG(std::string, only, "", "Run only these checks: ids or group prefixes, comma-separated (e.g. security.,seq.quit)");
ABSL_FLAG(std::string, skip, "", "Skip these checks (same form as --only)");
ABSL_FLAG(std::string, json, "", "Write a JSON report here");
ABSL_FLAG(std::string, junit, "", "Write a JUnit XML report here (for CI)");
ABSL_FLAG(bool, slow, false, "Also run checks that wait for the server's own timeouts (minutes)");
ABSL_FLAG(bool, list_checks, false, "List the checks and exit (with --json FILE, also as JSON)");

namespace smtplab::cli {
namespace {

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int run_conform(std::vector<char*> args) {
  parse_subcommand_flags(*find_subcommand("conform"), args,
                         "smtplab conform --server HOST:PORT [--profile mx|submission|sink] [--auth USER:PASS]\n"
                         "                [--starttls|--tls] [--tls-ca FILE] [--tls-server-name NAME]\n"
                         "                [--to ADDR] [--only IDS] [--skip IDS] [--json OUT] [--junit OUT]\n"
                         "                [--pcap OUT.pcapng [--keylog FILE]]\n\n"
                         "Checks an SMTP server against RFC 5321 and its extensions. Safe by default: no message\n"
                         "is delivered unless --to names a recipient you own.");
  conformance::Selection selection;
  for (auto part : absl::StrSplit(absl::GetFlag(FLAGS_only), ',', absl::SkipEmpty())) selection.only.emplace_back(part);
  for (auto part : absl::StrSplit(absl::GetFlag(FLAGS_skip), ',', absl::SkipEmpty())) selection.skip.emplace_back(part);
  const auto checks = conformance::select_checks(selection);
  if (absl::GetFlag(FLAGS_list_checks)) {
    for (const auto* c : checks) {
      std::printf("%-36s %-7s %-28s %s\n", c->id.c_str(), std::string(conformance::level_name(c->level)).c_str(),
                  c->reference.c_str(), c->title.c_str());
    }
    std::printf("%zu checks\n", checks.size());
    if (const std::string path = absl::GetFlag(FLAGS_json);
        !path.empty() && !write_file(path, conformance::json_check_list(checks))) {
      std::fprintf(stderr, "smtplab conform: cannot write %s\n", path.c_str());
      return 2;
    }
    return 0;
  }
  conformance::Target target;
  if (auto s = sim::split_host_port(absl::GetFlag(FLAGS_server), target.host, target.port); !s.ok()) {
    std::fprintf(stderr, "smtplab conform: --server HOST:PORT is required (%s)\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::string profile = absl::GetFlag(FLAGS_profile);
  if (profile == "mx") target.profile = conformance::Profile::kMx;
  else if (profile == "submission") target.profile = conformance::Profile::kSubmission;
  else if (profile == "sink") target.profile = conformance::Profile::kSink;
  else {
    std::fprintf(stderr, "smtplab conform: --profile must be mx, submission or sink\n");
    return 2;
  }
  if (const std::string auth = absl::GetFlag(FLAGS_auth); !auth.empty()) {
    const auto colon = auth.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "smtplab conform: --auth takes USER:PASS\n");
      return 2;
    }
    target.auth = std::make_pair(auth.substr(0, colon), auth.substr(colon + 1));
  }
  if (!absl::GetFlag(FLAGS_from).empty()) target.from = absl::GetFlag(FLAGS_from);
  target.deliver_to = absl::GetFlag(FLAGS_to);
  target.timeout = std::chrono::milliseconds(
      std::max<std::int64_t>(100, absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_timeout))));
  target.slow = absl::GetFlag(FLAGS_slow);
  // Before any TLS context exists, so that every one reports its secrets.
  const absl::Time epoch = absl::Now();
  auto capture = RunCapture::from_flags(epoch, nullptr);
  if (!capture.ok()) {
    std::fprintf(stderr, "smtplab conform: %s\n", std::string(capture.status().message()).c_str());
    return 2;
  }
  auto tls = client_tls_from_flags(target.host, /*always=*/true);
  if (!tls.ok()) {
    std::fprintf(stderr, "smtplab conform: %s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  target.tls.mode = tls->implicit ? conformance::ProbeTls::Mode::kImplicit
                    : tls->starttls != smtp::ClientTlsMode::kNone ? conformance::ProbeTls::Mode::kStartTls
                                                                  : conformance::ProbeTls::Mode::kNone;
  target.tls.context = tls->options.context;
  target.tls.server_name = tls->options.server_name;
  if (checks.empty()) {
    std::fprintf(stderr, "smtplab conform: no check matches --only/--skip (see --list-checks)\n");
    return 2;
  }

  const bool progress = stdout_is_terminal();
  std::uint64_t connections = 0;
  const conformance::ProbeWire wire{capture->observer(), epoch, &connections};
  const auto results = conformance::run_checks(
      target, checks,
      [&](std::size_t i, std::size_t n, const conformance::Check& c) {
        if (progress) std::fprintf(stderr, "\r  [%zu/%zu] %-40s", i + 1, n, c.id.c_str());
      },
      wire);
  if (progress) std::fprintf(stderr, "\r%60s\r", "");
  if (auto st = capture->finish({}); !st.ok()) {
    std::fprintf(stderr, "smtplab conform: %s\n", std::string(st.message()).c_str());
    return 2;
  }
  std::printf("%s", conformance::console_report(target, results, Style::for_stdout().color()).c_str());
  if (const std::string path = absl::GetFlag(FLAGS_json); !path.empty() && !write_file(path, conformance::json_report(target, results))) {
    std::fprintf(stderr, "smtplab conform: cannot write %s\n", path.c_str());
    return 2;
  }
  if (const std::string path = absl::GetFlag(FLAGS_junit); !path.empty() && !write_file(path, conformance::junit_report(target, results))) {
    std::fprintf(stderr, "smtplab conform: cannot write %s\n", path.c_str());
    return 2;
  }
  return conformance::must_requirements_hold(results) ? 0 : 1;
}

}  // namespace smtplab::cli
