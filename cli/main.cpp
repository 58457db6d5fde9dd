// smtplab: one binary, git-style subcommands (see subcommand.hpp).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/absl_string_view.hpp"
#include "cli/subcommand.hpp"

namespace smtplab::cli {
namespace {

constexpr Subcommand kSubcommands[] = {
    {"step", "Step through a scenario event by event, with explanations (default: greylisting)",
     "cli/scenario_commands.cpp", run_step},
    {"run", "Run a scenario to the end and check its expectations", "cli/scenario_commands.cpp", run_run},
    {"validate", "Check scenario files without running them", "cli/scenario_commands.cpp", run_validate},
    {"list", "List the scenario library", "cli/scenario_commands.cpp", run_list},
    {"explain", "Explain a reply code (451), an enhanced code (5.7.1) or a trace event", "cli/scenario_commands.cpp",
     run_explain},
    {"conform", "Check an SMTP server against the RFCs (RFC-referenced verdicts, JSON/JUnit reports)",
     "cli/conform_command.cpp,cli/common_flags.cpp,cli/tls_flag.cpp", run_conform},
    {"serve", "Run a scenario on real loopback sockets for swaks and smtplib; stream its trace to smtplab-viz",
     "cli/serve_command.cpp", run_serve},
    {"demo", "Start a capture server, send it one message, show the transcript and the stored file",
     "cli/demo_command.cpp", run_demo},
    {"sink", "Run an SMTP capture server that stores every message in a Maildir",
     "cli/sink_command.cpp,cli/tls_flag.cpp", run_sink},
    {"send", "Send one message to an SMTP server and print the transcript",
     "cli/send_command.cpp,cli/common_flags.cpp,cli/tls_flag.cpp", run_send},
    {"cert", "Make a CA and a host certificate (good or broken on purpose) for TLS with real tools",
     "cli/cert_command.cpp", run_cert},
};

void print_help(std::FILE* out) {
  std::fprintf(out,
               "smtplab: an SMTP protocol simulator and test kit\n\n"
               "usage: smtplab <command> [flags]\n\ncommands:\n");
  for (const auto& c : kSubcommands) {
    std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  }
  std::fprintf(out,
               "  %-8s %s\n\nRun 'smtplab <command> --help' for a command's flags.\n"
               "To watch a run animated: smtplab-viz [SCENARIO.yaml | TRACE.jsonl] (docs/visualizer.md).\n",
               "help", "Show this help");
}

}  // namespace

const Subcommand* find_subcommand(std::string_view name) {
  for (const auto& c : kSubcommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<char*> parse_subcommand_flags(const Subcommand& command, std::vector<char*>& args,
                                          std::string_view usage) {
  absl::FlagsUsageConfig config;
  // A command's --help lists the flags of its own files (comma-separated).
  std::vector<std::string> files = absl::StrSplit(std::string(command.source_file), ',');
  config.contains_help_flags = [files](absl::string_view flag_file) {
    for (const auto& f : files) {
      if (absl::EndsWith(flag_file, f)) return true;
    }
    return false;
  };
  config.contains_helpshort_flags = config.contains_help_flags;
  config.normalize_filename = [](absl::string_view f) { return std::string(f); };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(av(usage));
  // Accept "--body-file" as well as abseil's "--body_file": dashes are what
  // people type (and what swaks and Postfix tools use).
  static std::vector<std::string> storage;
  storage.reserve(args.size());
  for (char*& arg : args) {
    std::string a = arg;
    if (a.rfind("--", 0) != 0 || a == "--") continue;
    const auto end = std::min(a.find('='), a.size());
    std::replace(a.begin() + 2, a.begin() + static_cast<std::ptrdiff_t>(end), '-', '_');
    storage.push_back(std::move(a));
    arg = storage.back().data();
  }
  return absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace smtplab::cli

int main(int argc, char** argv) {
  using namespace smtplab::cli;
  if (argc < 2 || std::strcmp(argv[1], "help") == 0 || std::strcmp(argv[1], "--help") == 0 ||
      std::strcmp(argv[1], "-h") == 0) {
    if (argc >= 3 && find_subcommand(argv[2]) != nullptr) {
      // "smtplab help sink" is "smtplab sink --help".
      std::vector<char*> args = {argv[0], const_cast<char*>("--help")};
      return find_subcommand(argv[2])->run(args);
    }
    print_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const Subcommand* command = find_subcommand(argv[1]);
  if (command == nullptr) {
    std::fprintf(stderr, "smtplab: unknown command '%s'\n\n", argv[1]);
    print_help(stderr);
    return 2;
  }
  static std::string program = std::string("smtplab ") + argv[1];
  std::vector<char*> args = {program.data()};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  return command->run(args);
}
