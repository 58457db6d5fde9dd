#include "conformance/runner.hpp"

#include <chrono>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::conformance {
namespace {

bool matches(const std::string& id, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (id == p || (!p.empty() && p.back() == '.' && absl::StartsWith(id, p))) return true;
  }
  return false;
}

}  // namespace

std::vector<const Check*> select_checks(const Selection& s) {
  std::vector<const Check*> out;
  for (const Check& c : all_checks()) {
    if (!s.only.empty() && !matches(c.id, s.only)) continue;
    if (matches(c.id, s.skip)) continue;
    out.push_back(&c);
  }
  return out;
}

std::vector<CheckResult> run_checks(const Target& target, const std::vector<const Check*>& checks,
                                    const std::function<void(std::size_t, std::size_t, const Check&)>& progress,
                                    const ProbeWire& wire) {
  std::vector<CheckResult> results;
  ProbeTls tls = target.tls;
  if (!tls.context) {
    tls::TlsClientSettings settings;
    settings.system_roots = true;
    settings.min_version = tls::TlsVersion::k1_0;  // so an old server is reported, not just unreachable
    if (auto ctx = tls::TlsContext::client(settings); ctx.ok()) tls.context = *ctx;
  }
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (progress) progress(i, checks.size(), *checks[i]);
    Probe probe(target.host, target.port, target.timeout, tls);
    probe.record_wire(wire);
    const auto start = std::chrono::steady_clock::now();
    CheckResult r;
    r.check = checks[i];
    r.verdict = checks[i]->run(target, probe);
    if (probe.connected() && r.verdict.outcome != Outcome::kSkip) {
      probe.send_line("QUIT");  // polite, and not waited for
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.transcript = probe.transcript();
    results.push_back(std::move(r));
  }
  return results;
}

bool must_requirements_hold(const std::vector<CheckResult>& results) {
  for (const auto& r : results) {
    if (r.check->level == Level::kMust && r.verdict.outcome == Outcome::kFail) return false;
  }
  return true;
}

}  // namespace smtplab::conformance
