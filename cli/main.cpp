// smtplab: one binary, git-style subcommands (see subcommand.hpp).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/subcommand.hpp"

namespace smtplab::cli {
namespace {

constexpr Subcommand kSubcommands[] = {
    {"step", "Step through a scenario event by event, with explanations (default: greylisting)",
     "interactive=auto|yes|no ladder seed=N trace=FILE pcap=FILE keylog=FILE port=N", run_step},
    {"run", "Run a scenario to the end and check its expectations", "seed=N trace=FILE pcap=FILE keylog=FILE show_messages", run_run},
    {"validate", "Check scenario files without running them", "", run_validate},
    {"list", "List the scenario library", "library=DIR", run_list},
    {"explain", "Explain a reply code (451), an enhanced code (5.7.1) or a trace event", "", run_explain},
    {"conform", "Check an SMTP server against the RFCs (RFC-referenced verdicts, JSON/JUnit reports)",
     "server=HOST:PORT profile=mx|submission|sink auth=USER:PASS from=ADDRESS to=ADDRESS starttls tls tls_verify "
     "tls_ca=FILE tls_server_name=NAME only=IDS skip=IDS slow timeout=DURATION json=FILE junit=FILE pcap=FILE keylog=FILE "
     "list_checks",
     run_conform},
    {"serve", "Run a scenario on real loopback sockets for swaks and smtplib; stream its trace to smtplab-viz",
     "http=HOST:PORT time_scale=N port_offset=N spool=DIR log=messages|all|none pcap=FILE keylog=FILE", run_serve},
    {"demo", "Start a capture server, send it one message, show the transcript and the stored file",
     "demo_maildir=DIR", run_demo},
    {"sink", "Run an SMTP capture server that stores every message in a Maildir",
     "listen=HOST:PORT maildir=DIR hostname=NAME max_message_size=OCTETS tls_cert=FILE tls_key=FILE tls "
     "bare_lf=reject|normalize|accept accept_nul no_fsync group_commit=true|false quiet threads=N max_connections=N "
     "max_connections_per_client=N idle_timeout=DURATION stress_idle_timeout=DURATION "
     "per_request_deadline=never|stress|always min_data_rate=OCTETS evict_idle_after=DURATION",
     run_sink},
    {"send", "Send one message to an SMTP server and print the transcript",
     "server=HOST:PORT from=ADDRESS to=ADDRESS subject=TEXT body_file=FILE auth=USER:PASS starttls tls tls_verify "
     "tls_ca=FILE tls_server_name=NAME helo=NAME pipelining=auto|off bdat timeout=DURATION",
     run_send},
    {"cert", "Make a CA and a host certificate (good or broken on purpose) for TLS with real tools",
     "out=DIR host=NAMES problem=KIND", run_cert},
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
