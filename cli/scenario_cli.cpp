#include "cli/scenario_cli.hpp"

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "scenarios/scenario_loader.hpp"
#include "sim/time_text.hpp"

namespace smtplab::cli {

std::string library_dir() {
  if (const char* env = std::getenv("SMTPLAB_LIBRARY")) return env;
  return SMTPLAB_LIBRARY_DIR;
}

std::string default_scenario_path() { return library_dir() + "/greylisting.yaml"; }

std::string resolve_scenario(const std::string& name) {
  namespace fs = std::filesystem;
  if (fs::exists(name)) return name;
  // The names `smtplab list` prints work too.
  for (const std::string& candidate : {library_dir() + "/" + name, library_dir() + "/" + name + ".yaml"}) {
    if (fs::exists(candidate)) return candidate;
  }
  return name;
}

std::optional<scenarios::Scenario> load_or_report(const std::string& name) {
  const std::string path = resolve_scenario(name);
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "%s: no such file, and no scenario of that name in the library (smtplab list shows them)\n",
                 name.c_str());
    return std::nullopt;
  }
  scenarios::LoadResult r = scenarios::load_scenario_file(path);
  if (!r.ok()) {
    std::fprintf(stderr, "%s\n", r.error_text().c_str());
    std::fprintf(stderr, "%zu error(s); docs/scenario-reference.md lists every key.\n", r.errors.size());
    return std::nullopt;
  }
  return *std::move(r.scenario);
}


bool print_verdict(const scenarios::Scenario& s, const scenarios::ScenarioWorld& world,
                   const scenarios::RunSummary& summary, const Style& style) {
  std::printf("\n%s\n", style.bold("Summary").c_str());
  std::printf("  messages submitted   %zu\n", summary.submitted);
  if (summary.refused > 0) std::printf("  submissions refused  %zu\n", summary.refused);
  std::printf("  copies delivered     %zu\n", summary.delivered);
  std::printf("  recipients bounced   %zu\n", summary.bounced);
  std::printf("  bounces delivered    %zu\n", summary.bounces_delivered);
  std::printf("  deferrals (4xx)      %zu\n", summary.deferrals);
  std::printf("  still queued         %zu\n", summary.still_queued);
  std::printf("  virtual time         %s%s\n", sim::clock_text(absl::ToInt64Microseconds(summary.ended_at)).c_str(),
              summary.drained ? "" : " (stopped at max_duration)");
  bool all = true;
  const auto results = scenarios::check_expectations(s, world);
  if (!results.empty()) std::printf("\n%s\n", style.bold("Expectations").c_str());
  for (const auto& r : results) {
    all = all && r.met;
    const std::string mark = r.met ? style.green("PASS") : style.red("FAIL");
    std::printf("  %s  %s\n        %s (%s:%d)\n", mark.c_str(), r.expected.c_str(), r.found.c_str(), s.file.c_str(),
                r.spec->where.line);
  }
  if (!s.lesson_after.empty()) std::printf("\n%s\n%s", style.bold("What happened").c_str(),
                                           wrap_paragraph(s.lesson_after, "  ").c_str());
  const std::string verdict = results.empty() ? "Verdict: PASS (no expectations: nothing was checked)"
                              : all           ? "Verdict: PASS"
                                              : "Verdict: FAIL";
  std::printf("\n%s\n", all ? style.green(style.bold(verdict)).c_str() : style.red(style.bold(verdict)).c_str());
  return all;
}

}  // namespace smtplab::cli
