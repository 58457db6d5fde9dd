#include "cli/step_capture.hpp"

#include <cstdio>
#include <optional>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "capture/capture_import.hpp"
#include "sim/trace/trace_jsonl.hpp"
#include "viz/model/ladder.hpp"
#include "viz/model/ladder_text.hpp"

ABSL_FLAG(std::string, port, "",
          "step CAPTURE: more ports to read as SMTP, comma-separated (25, 465, 587, 2525 and 24 always are)");
ABSL_DECLARE_FLAG(std::string, trace);
ABSL_DECLARE_FLAG(std::string, keylog);

namespace smtplab::cli {
namespace {

std::string plural(std::size_t n, const char* one, const char* many) { return absl::StrCat(n, " ", n == 1 ? one : many); }

}  // namespace

int step_capture(const std::string& path, const Style& style, const StepperOptions& options, bool ladder) {
  capture::ImportOptions import;
  const std::vector<std::string> ports = absl::StrSplit(absl::GetFlag(FLAGS_port), ',', absl::SkipEmpty());
  for (const std::string& part : ports) {
    int port = 0;
    if (!absl::SimpleAtoi(part, &port) || port < 1 || port > 65535) {
      std::fprintf(stderr, "smtplab step: --port takes port numbers, comma-separated (not '%s')\n", part.c_str());
      return 2;
    }
    import.smtp_ports.push_back(static_cast<std::uint16_t>(port));
    import.reassembly.server_ports.push_back(static_cast<std::uint16_t>(port));
  }
  std::optional<capture::KeyLog> keys;
  if (const std::string keylog = absl::GetFlag(FLAGS_keylog); !keylog.empty()) {
    auto read = capture::KeyLog::read(keylog);
    if (!read.ok()) {
      std::fprintf(stderr, "smtplab step: %s\n", std::string(read.status().message()).c_str());
      return 2;
    }
    keys = *std::move(read);
    import.keys = &*keys;
  }
  auto imported = capture::import_capture(path, import);
  if (!imported.ok()) {
    std::fprintf(stderr, "smtplab step: %s\n", std::string(imported.status().message()).c_str());
    return 2;
  }
  std::printf("%s\n", style.bold(absl::StrCat("Capture ", path)).c_str());
  std::printf("  %s, %s read as SMTP", plural(imported->packets, "packet", "packets").c_str(),
              plural(imported->smtp_connections, "connection", "connections").c_str());
  if (imported->other_connections > 0) {
    std::printf(" (%s on other ports left out: --port adds one)",
                plural(imported->other_connections, "TCP connection", "TCP connections").c_str());
  }
  std::printf(".\n");
  std::vector<std::string> not_tcp;
  for (const auto& [why, n] : imported->not_tcp) not_tcp.push_back(absl::StrCat(n, " ", why));
  if (!not_tcp.empty()) std::printf("  Frames that are not TCP segments: %s.\n", absl::StrJoin(not_tcp, ", ").c_str());
  std::printf("  Times count from the first packet, %s UTC.\n",
              absl::FormatTime("%Y-%m-%d %H:%M:%E6S", imported->first_packet, absl::UTCTimeZone()).c_str());
  if (const std::string out = absl::GetFlag(FLAGS_trace); !out.empty()) {
    if (auto st = sim::write_jsonl(imported->events, out); !st.ok()) {
      std::fprintf(stderr, "cannot write the trace: %s\n", std::string(st.message()).c_str());
      return 2;
    }
    std::fprintf(stderr, "trace written to %s (%zu events)\n", out.c_str(), imported->events.size());
  }
  if (imported->smtp_connections == 0) {
    std::printf("\nNo SMTP connection in this capture (ports %s; --port adds one).\n",
                absl::StrJoin(import.smtp_ports, ", ").c_str());
    return 0;
  }
  if (ladder) {
    const viz::LadderIndex index(imported->events);
    for (const std::uint64_t connection : index.connections_without_message()) {
      std::printf("\n%s", viz::ladder_text(index.connection_ladder(connection)).c_str());
    }
    return 0;
  }
  run_stepper(imported->events, style, options);
  std::size_t findings = 0;
  for (const auto& e : imported->events) findings += e.kind == sim::EventKind::kCaptureFinding;
  std::printf("\n%s\n", style.bold(findings == 0 ? "No findings: nothing the import marks as capture.finding."
                                                 : absl::StrCat(plural(findings, "finding", "findings"),
                                                                " (capture.finding above).")).c_str());
  return 0;
}

}  // namespace smtplab::cli
