// smtplab run | step | validate | list | explain: scenarios from the command line.
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "capture/capture_import.hpp"
#include "cli/run_capture.hpp"
#include "cli/scenario_cli.hpp"
#include "cli/step_capture.hpp"
#include "cli/stepper.hpp"
#include "cli/stored_message.hpp"
#include "cli/subcommand.hpp"
#include "scenarios/explanations.hpp"
#include "scenarios/scenario_loader.hpp"
#include "sim/trace/trace_jsonl.hpp"
#include "sim/time_text.hpp"
#include "viz/model/ladder.hpp"
#include "viz/model/ladder_text.hpp"

ABSL_FLAG(int64_t, seed, -1, "Seed for the run's random choices (default: the scenario's own)");
ABSL_FLAG(std::string, trace, "", "Also write the trace to this file (JSON Lines, docs/trace.md)");
ABSL_FLAG(std::string, interactive, "auto",
          "auto: wait for a key between events on a terminal, print everything otherwise; yes: always wait (from a pipe, one key per line); no: never");
ABSL_FLAG(bool, show_messages, false,
          "Print each delivered message as its mailbox stored it (headers first: count the Received: lines)");
ABSL_FLAG(bool, ladder, false,
          "Print the run as ladder diagrams instead of stepping: one per message, hop by hop, time flowing down");
ABSL_FLAG(std::string, library, "", "The folder of scenarios to list (default: the project's scenarios/library)");

namespace smtplab::cli {
namespace {

namespace fs = std::filesystem;

// `run --show-messages` prints what was delivered whole, or nearly: a
// lesson's message is a few lines, a runaway one stops here.
constexpr std::size_t kAllBodyLines = 200;

struct Finished {
  scenarios::RunSummary summary;
};

// Loads, builds and runs; shows progress on a terminal for long runs; writes
// the trace and the capture the flags ask for.
std::optional<Finished> run_scenario(const scenarios::Scenario& s, scenarios::ScenarioWorld& world) {
  auto capture = RunCapture::from_flags(world.clock().epoch(), &world.trace);
  if (!capture.ok()) {
    std::fprintf(stderr, "%s\n", std::string(capture.status().message()).c_str());
    return std::nullopt;
  }
  world.set_wire_observer(capture->observer());
  if (auto st = world.build(); !st.ok()) {
    std::fprintf(stderr, "%s: cannot build the world: %s\n", s.file.c_str(), std::string(st.message()).c_str());
    return std::nullopt;
  }
  const bool progress = stdout_is_terminal();
  Finished f;
  f.summary = world.run([&](absl::Duration t) {
    if (progress && t > absl::Hours(1)) {
      std::fprintf(stderr, "\r  running... virtual time %s, %llu events   ", sim::clock_text(absl::ToInt64Microseconds(t)).c_str(),
                   static_cast<unsigned long long>(world.trace.count()));
    }
  });
  if (progress) std::fprintf(stderr, "\r%60s\r", "");
  if (const std::string path = absl::GetFlag(FLAGS_trace); !path.empty()) {
    if (auto st = sim::write_jsonl(world.trace.events(), path); !st.ok()) {
      std::fprintf(stderr, "cannot write the trace: %s\n", std::string(st.message()).c_str());
    } else {
      std::fprintf(stderr, "trace written to %s (%zu events)\n", path.c_str(), world.trace.events().size());
    }
  }
  if (auto st = capture->finish(world.trace.events(), world.host_addresses()); !st.ok()) {
    std::fprintf(stderr, "%s\n", std::string(st.message()).c_str());
    return std::nullopt;
  }
  return f;
}

std::uint64_t seed_for(const scenarios::Scenario& s) {
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  return seed >= 0 ? static_cast<std::uint64_t>(seed) : s.seed;
}

std::string one_file(const std::vector<char*>& positional, const char* command, bool default_ok) {
  if (positional.size() > 2) {
    std::fprintf(stderr, "smtplab %s: one scenario file at a time\n", command);
    return {};
  }
  if (positional.size() == 2) return positional[1];
  if (default_ok) return default_scenario_path();
  std::fprintf(stderr, "smtplab %s: give a scenario file (see 'smtplab list')\n", command);
  return {};
}

}  // namespace

int run_run(std::vector<char*> args) {
  auto positional = parse_subcommand_flags(*find_subcommand("run"), args,
                                           "smtplab run FILE [--seed N] [--trace OUT.jsonl] [--pcap OUT.pcapng [--keylog FILE]] [--show-messages]\n\n"
                                           "Runs a scenario to the end, prints a summary and its expectations.\n"
                                           "Exit status: 0 when every expectation holds, 1 when one fails,\n"
                                           "2 for bad input (no such file, errors in it, a world that cannot be built).");
  const std::string file = one_file(positional, "run", false);
  if (file.empty()) return 2;
  auto s = load_or_report(file);
  if (!s) return 2;
  const Style style = Style::for_stdout();
  std::printf("%s\n", style.bold(s->title.empty() ? file : s->title).c_str());
  scenarios::ScenarioWorld world(*s, seed_for(*s));
  auto f = run_scenario(*s, world);
  if (!f) return 2;  // the world could not be built from it: bad input, not a failed expectation
  if (absl::GetFlag(FLAGS_show_messages)) {
    for (const auto& e : world.trace.events()) {
      if (e.kind != sim::EventKind::kMailboxDeliver) continue;
      const std::optional<std::string> stored = stored_message_of(world, e);
      if (!stored) continue;
      const std::string* to = e.detail(sim::detail_key::kRecipient);
      std::printf("\n%s", format_stored_message(absl::StrCat("Delivered to ", to ? *to : "?", " at ", e.host, " at ",
                                                             sim::clock_text(e.time_us), ":"),
                                                *stored, "", kAllBodyLines, style)
                               .c_str());
    }
  }
  return print_verdict(*s, world, f->summary, style) ? 0 : 1;
}

namespace {

// Each message's journey, then any conversation that carried none (a relay
// refused before MAIL, a client from outside).
void print_ladders(const std::vector<sim::TraceEvent>& events) {
  const viz::LadderIndex index(events);
  for (const std::string& message : index.messages()) {
    std::printf("\n%s", viz::ladder_text(index.message_ladder(message)).c_str());
  }
  for (const std::uint64_t connection : index.connections_without_message()) {
    std::printf("\n%s", viz::ladder_text(index.connection_ladder(connection)).c_str());
  }
}

}  // namespace

int run_step(std::vector<char*> args) {
  auto positional = parse_subcommand_flags(*find_subcommand("step"), args,
                                           "smtplab step [FILE] [--seed N] [--interactive auto|yes|no] [--ladder] [--pcap OUT.pcapng [--keylog FILE]]\n"
                                           "smtplab step CAPTURE.pcap[ng] [--port N,...] [--keylog SECRETS] [--trace OUT.jsonl]\n\n"
                                           "Shows a scenario event by event, with what each line means.\n"
                                           "Without FILE, the default scenario (greylisting, then delivery).\n"
                                           "A capture (tcpdump, Wireshark, --pcap) is read and shown the same way.\n"
                                           "Exit status: 0 when every expectation holds, 1 when one fails,\n"
                                           "2 for bad input (no such file, errors in it, a world that cannot be built).");
  const std::string file = one_file(positional, "step", true);
  if (file.empty()) return 2;
  const Style style = Style::for_stdout();
  const std::string mode = absl::GetFlag(FLAGS_interactive);
  if (mode != "auto" && mode != "yes" && mode != "no") {
    std::fprintf(stderr, "smtplab step: --interactive must be auto, yes or no\n");
    return 2;
  }
  StepperOptions options;
  options.interactive = mode == "yes" || (mode == "auto" && stdin_is_terminal() && stdout_is_terminal());
  options.explain_every_time = options.interactive;
  if (capture::is_capture_file(file)) return step_capture(file, style, options, absl::GetFlag(FLAGS_ladder));
  auto s = load_or_report(file);
  if (!s) return 2;

  std::printf("%s\n", style.bold(s->title.empty() ? file : s->title).c_str());
  if (!s->lesson_before.empty()) std::printf("%s\n", wrap_paragraph(s->lesson_before, "  ").c_str());
  scenarios::ScenarioWorld world(*s, seed_for(*s));
  auto f = run_scenario(*s, world);
  if (!f) return 2;  // the world could not be built from it: bad input, not a failed expectation
  if (absl::GetFlag(FLAGS_ladder)) {
    print_ladders(world.trace.events());
  } else {
    options.stored_message = [&world](const sim::TraceEvent& e) { return stored_message_of(world, e); };
    run_stepper(world.trace.events(), style, options);
  }
  return print_verdict(*s, world, f->summary, style) ? 0 : 1;
}

int run_validate(std::vector<char*> args) {
  auto positional = parse_subcommand_flags(*find_subcommand("validate"), args,
                                           "smtplab validate FILE...\n\nChecks scenario files without running them.\n"
                                           "Exit status: 0 when every file is good, 2 when one is not (each error\n"
                                           "with its file, line and column) or cannot be read.");
  if (positional.size() < 2) {
    std::fprintf(stderr, "smtplab validate: give one or more scenario files\n");
    return 2;
  }
  int status = 0;
  for (std::size_t i = 1; i < positional.size(); ++i) {
    auto r = scenarios::load_scenario_file(positional[i]);
    if (r.ok()) {
      // "1 domain", "2 domains": counts read as words.
      auto count = [](std::size_t n, const char* one, const char* many) {
        return absl::StrCat(n, " ", n == 1 ? one : many);
      };
      std::printf("%s: OK (%s, %s, %s)\n", positional[i],
                  count(r.scenario->domains.size(), "domain", "domains").c_str(),
                  count(r.scenario->actions.size(), "action", "actions").c_str(),
                  count(r.scenario->expects.size(), "expectation", "expectations").c_str());
    } else {
      std::fprintf(stderr, "%s\n", r.error_text().c_str());
      status = 2;  // bad input, as for run and step
    }
  }
  return status;
}

int run_list(std::vector<char*> args) {
  parse_subcommand_flags(*find_subcommand("list"), args, "smtplab list [--library DIR]\n\nThe scenario library.");
  std::string dir = absl::GetFlag(FLAGS_library);
  if (dir.empty()) dir = library_dir();
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  }
  if (ec) {
    std::fprintf(stderr, "smtplab list: %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::sort(files.begin(), files.end());
  const Style style = Style::for_stdout();
  for (const auto& f : files) {
    auto r = scenarios::load_scenario_file(f.string());
    const std::string name = f.stem().string();
    if (!r.ok()) {
      std::printf("%-28s %s\n", name.c_str(), style.red("(has errors: run smtplab validate)").c_str());
      continue;
    }
    std::printf("%s %s\n", style.bold(absl::StrFormat("%-28s", name)).c_str(), r.scenario->title.c_str());
    if (!r.scenario->summary.empty()) std::printf("%s", wrap_paragraph(r.scenario->summary, std::string(29, ' ')).c_str());
  }
  if (fs::equivalent(dir, library_dir(), ec)) {
    std::printf("\nRun one with: smtplab step NAME (or run NAME; serve NAME puts it on real sockets; files are in %s)\n",
                dir.c_str());
  } else {
    // A name alone is looked up in the project's library, not in DIR.
    std::printf("\nRun one with: smtplab step %s/NAME.yaml (or run, or serve; or name it alone with "
                "SMTPLAB_LIBRARY=%s smtplab step NAME)\n",
                dir.c_str(), dir.c_str());
  }
  return 0;
}

int run_explain(std::vector<char*> args) {
  auto positional = parse_subcommand_flags(*find_subcommand("explain"), args,
                                           "smtplab explain CODE...\n\nExplains a reply code (451), an enhanced status "
                                           "code (5.7.1) or a trace event kind (queue.defer).");
  if (positional.size() < 2) {
    std::fprintf(stderr, "smtplab explain: give a reply code (451), an enhanced code (5.7.1) or an event kind\n");
    return 2;
  }
  int status = 0;
  for (std::size_t i = 1; i < positional.size(); ++i) {
    if (auto text = scenarios::explain_query(positional[i])) {
      std::printf("%s", wrap_paragraph(*text, "").c_str());
    } else {
      std::fprintf(stderr, "smtplab explain: no explanation for '%s'\n", positional[i]);
      status = 1;
    }
  }
  return status;
}

}  // namespace smtplab::cli
