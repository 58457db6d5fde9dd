// smtplab serve: a scenario's agents on real loopback sockets, so swaks,
// Python's smtplib or a mail client can send into them, with the trace
// streamed over a WebSocket (smtplab-viz --attach) and a small HTTP API.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/run_capture.hpp"
#include "cli/scenario_cli.hpp"
#include "cli/serve/live_server.hpp"
#include "cli/subcommand.hpp"
#include "cli/work_directory.hpp"
#include "sim/loopback/loopback_runtime.hpp"
#include "sim/time_text.hpp"

ABSL_FLAG(std::string, http, "127.0.0.1:8025",
          "Where the HTTP API and the trace WebSocket listen, HOST:PORT (port 0 picks a free one)");
ABSL_FLAG(double, time_scale, 60,
          "How much faster than real time the world's timers run: with 60 a 5-minute retry or "
          "greylisting delay takes 5 s (SMTP timeouts stay in real time)");
ABSL_FLAG(int, port_offset, 10000,
          "Each host listens on its own 127.0.0.x at its port plus this (587 -> 10587); 0 picks free ports");
ABSL_FLAG(std::string, spool, "",
          "Keep the MTA queues and the Maildirs here (default: a temporary folder removed at exit)");
ABSL_FLAG(std::string, log, "messages", "What to print as it happens: messages (queue and mailbox events), all, none");

namespace smtplab::cli {
namespace {

std::string role_of(const scenarios::ScenarioWorld& world, const std::string& host) {
  if (auto it = world.mtas.find(host); it != world.mtas.end()) return it->second->settings().agent_name;
  if (world.mdas.count(host)) return "mda";
  return "";
}

// Ready-to-paste commands for the first sender and recipient of the scenario.
void print_examples(const scenarios::ScenarioWorld& world, const sim::LoopbackNetwork& net, double scale,
                    const std::string& spool) {
  const auto& domains = world.scenario().domains;
  const scenarios::DomainSpec* from = nullptr;
  const scenarios::DomainSpec* to = nullptr;
  for (const auto& d : domains) {
    if (d.users.empty()) continue;
    if (from == nullptr) {
      from = &d;
    } else if (to == nullptr) {
      to = &d;
    }
  }
  if (from == nullptr) return;
  if (to == nullptr) to = from;
  const std::string sender = from->users.front().name + "@" + from->name;
  const std::string recipient = to->users.front().name + "@" + to->name;
  std::printf("\nSend into it, for example:\n");
  const bool implicit = from->tls && from->tls->submission_port == 465;
  const auto [msa_ip, msa_port] = net.real_endpoint("submit." + from->name, implicit ? 465 : 587);
  if (msa_port != 0) {
    std::printf("  swaks --server %s:%d%s --auth PLAIN --auth-user %s --auth-password %s \\\n"
                "        --from %s --to %s\n",
                msa_ip.c_str(), msa_port, from->tls ? (implicit ? " --tlsc" : " --tls") : "",
                from->users.front().name.c_str(), from->users.front().password.c_str(), sender.c_str(),
                recipient.c_str());
  }
  // Where that message lands: the recipient's Maildir under the spool
  // (scenario_world_build.cpp: SPOOL/mail.DOMAIN/USER).
  if (world.mdas.count("mail." + to->name)) {
    std::printf("  ls %s/mail.%s/%s/new    (where it lands: %s's Maildir)\n", spool.c_str(), to->name.c_str(),
                to->users.front().name.c_str(), to->users.front().name.c_str());
  }
  // The first MX that no action takes down (mx-fallback's mx1 is down from the start).
  std::string mx = to->mx.empty() ? "mx." + to->name : to->mx.front().host;
  for (const auto& record : to->mx) {
    const bool goes_down = std::any_of(world.scenario().actions.begin(), world.scenario().actions.end(), [&](const auto& a) {
      return a.kind == scenarios::ActionSpec::Kind::kHostDown && a.hosts[0] == record.host;
    });
    if (!goes_down) {
      mx = record.host;
      break;
    }
  }
  // A sender from outside the world, as another MTA's would be: a domain
  // the scenario does not have (some lessons have example.com).
  std::string outside = "elsewhere.example";
  for (int n = 2; std::any_of(domains.begin(), domains.end(), [&](const auto& d) { return d.name == outside; }); ++n) {
    outside = absl::StrCat("elsewhere", n, ".example");
  }
  const auto [mx_ip, mx_port] = net.real_endpoint(mx, 25);
  if (mx_port != 0) {
    std::printf("  swaks --server %s:%d --from someone@%s --to %s    (straight to %s, as another\n"
                "        MTA would; replies speak world time: \"try again in 300 seconds\" is %.3g s here)\n",
                mx_ip.c_str(), mx_port, outside.c_str(), recipient.c_str(), mx.c_str(), 300 / scale);
  }
}

// A spool that already holds queues: say what was recovered, and whether
// the spool was made by this scenario (marked in SPOOL/smtplab-serve.txt).
std::string resume_note(const scenarios::ScenarioWorld& world, const std::string& spool, const std::string& file) {
  const std::string marker = spool + "/smtplab-serve.txt";
  std::string made_by;
  if (std::ifstream in(marker); in) std::getline(in, made_by);
  std::ofstream(marker, std::ios::trunc) << file << "\n";
  std::size_t recovered = 0;
  for (const auto& e : world.trace.events()) recovered += e.kind == sim::EventKind::kQueueRecover;
  std::string note;
  if (!made_by.empty() && made_by != file) {
    note += absl::StrCat("Note: this spool was last used by ", made_by, "; its queues are resumed here anyway.\n");
  }
  if (recovered > 0) {
    note += absl::StrCat("Resumed ", recovered, " queued message(s) from the spool (each MTA reloads its queue as "
                         "after a crash). The scenario's own sends run again, so its messages arrive once more.\n");
  }
  return note;
}

}  // namespace

int run_serve(std::vector<char*> args) {
  auto positional = parse_subcommand_flags(
      *find_subcommand("serve"), args,
      "smtplab serve [SCENARIO] [--http 127.0.0.1:8025] [--time-scale 60] [--port-offset 10000]\n"
      "              [--spool DIR] [--log messages|all|none] [--pcap OUT.pcapng [--keylog FILE]]\n\n"
      "Runs a scenario's agents on real loopback sockets (default: the greylisting lesson): each host\n"
      "on its own 127.0.0.x, so swaks or smtplib can send into them. The trace streams over a\n"
      "WebSocket (smtplab-viz --attach ws://HOST:PORT/trace) and GET /api/... answers JSON.\n"
      "Runs until Ctrl-C; then writes the capture --pcap asks for.");
  if (positional.size() > 2) {
    std::fprintf(stderr, "smtplab serve: one scenario at a time\n");
    return 2;
  }
  const std::string file = positional.size() == 2 ? positional[1] : default_scenario_path();
  auto scenario = load_or_report(file);
  if (!scenario) return 1;
  const std::string log = absl::GetFlag(FLAGS_log);
  if (log != "messages" && log != "all" && log != "none") {
    std::fprintf(stderr, "smtplab serve: --log is messages, all or none, not \"%s\"\n", log.c_str());
    return 2;
  }
  const double scale = absl::GetFlag(FLAGS_time_scale);
  if (!(scale > 0 && scale <= 1e6)) {
    std::fprintf(stderr, "smtplab serve: --time-scale must be above 0 (1 is real time), at most 1000000\n");
    return 2;
  }
  std::string http_host;
  int http_port = 0;
  if (auto st = sim::split_host_port(absl::GetFlag(FLAGS_http), http_host, http_port); !st.ok()) {
    std::fprintf(stderr, "smtplab serve: --http: %s\n", std::string(st.message()).c_str());
    return 2;
  }

  const WorkDirectory work(absl::GetFlag(FLAGS_spool), "smtplab-serve");
  if (!work.ok()) return 1;
  const std::string& spool = work.path();
  const bool temporary = work.temporary();

  sim::LoopbackRuntime runtime;
  runtime.set_time_scale(scale);
  scenarios::ScenarioWorld world(*scenario, runtime,
                                 {.port_offset = absl::GetFlag(FLAGS_port_offset), .spool_root = spool,
                                  .seed = scenario->seed});
  ServeInfo info{scenario->file, scale, spool, 0};
  LiveServer server(runtime, world, info);
  auto bound = server.listen(http_host, http_port);
  if (!bound.ok()) {
    std::fprintf(stderr, "smtplab serve: %s (--http picks another address; port 0 any free one)\n",
                 std::string(bound.status().message()).c_str());
    return 1;
  }
  auto capture = RunCapture::from_flags(world.clock().epoch(), &world.trace);
  if (!capture.ok()) {
    std::fprintf(stderr, "smtplab serve: %s\n", std::string(capture.status().message()).c_str());
    return 2;
  }
  world.set_wire_observer(capture->observer());
  if (auto st = world.build(); !st.ok()) {
    std::fprintf(stderr, "smtplab serve: %s: cannot start the world: %s%s\n", scenario->file.c_str(),
                 std::string(st.message()).c_str(),
                 absl::GetFlag(FLAGS_port_offset) != 0 ? " (--port-offset 0 picks free ports)" : "");
    return 1;
  }
  const auto* net = world.loopback_network();
  const std::string resumed = resume_note(world, spool, scenario->file);

  std::printf("smtplab serve: %s\n  %s on real loopback sockets; the world's timers run x%g",
              scenario->title.c_str(), scenario->file.c_str(), scale);
  if (scale != 1) std::printf(" (a 5-minute retry takes %.3g s)", 300 / scale);
  std::printf("\n\n  %-24s %-6s %5s  %s\n", "host", "agent", "port", "listens on");
  for (const auto& [key, real] : net->listeners()) {
    std::printf("  %-24s %-6s %5d  %s\n", key.first.c_str(), role_of(world, key.first).c_str(), key.second,
                real.c_str());
  }
  for (const auto& w : world.warnings()) std::printf("\n  not on real sockets: %s\n", w.c_str());
  print_examples(world, *net, scale, spool);
  std::printf("\nWatch it:  smtplab-viz --attach ws://%s:%d/trace\n", http_host.c_str(), *bound);
  std::printf("API:       curl http://%s:%d/api/mailboxes   (also /api/queues, /api/trace, /api/hosts)\n",
              http_host.c_str(), *bound);
  std::printf("Spool:     %s%s\n", spool.c_str(),
              temporary ? " (Maildirs and queues; removed at exit, --spool DIR keeps them)" : " (Maildirs and queues)");
  if (!resumed.empty()) std::printf("%s", resumed.c_str());
  std::printf("The scenario's own timed actions run too. Ctrl-C stops.\n\n");
  std::fflush(stdout);
  if (log != "none") {
    // Attached only now, so the banner comes first; what happened while
    // the world started (recovered queues) is in the note above.
    world.trace.add_listener([all = log == "all"](const sim::TraceEvent& e) {
      // A refusal is worth a line too: it is what the person sending sees.
      const bool refusal = e.kind == sim::EventKind::kSmtpReply && e.code >= 400;
      if (!all && !sim::is_message_level(e) && !refusal) return;
      std::printf("%s  %-20s %-16s %s\n", sim::clock_text(e.time_us).c_str(), e.host.c_str(), sim::name_of(e.kind),
                  e.text.c_str());
      std::fflush(stdout);
    });
  }

  runtime.run_until_signal();

  const scenarios::RunSummary summary = world.summary();
  std::printf("\nstopped after %s of world time. Delivered into mailboxes: %zu; bounced: %zu; deferrals: %zu; still "
              "queued: %zu\n",
              sim::clock_text(absl::ToInt64Microseconds(summary.ended_at)).c_str(), summary.delivered,
              summary.bounced, summary.deferrals, summary.still_queued);
  std::fflush(stdout);
  if (auto st = capture->finish(world.trace.events(), world.host_addresses()); !st.ok()) {
    std::fprintf(stderr, "smtplab serve: %s\n", std::string(st.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace smtplab::cli
