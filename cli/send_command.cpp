// smtplab send: compose one message and send it to an SMTP server, printing
// the transcript (like swaks). Exit status 0 only if every recipient and the
// message itself were accepted.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agents/message_composer.hpp"
#include "cli/client_tls.hpp"
#include "cli/common_flags.hpp"
#include "cli/loopback_delivery.hpp"
#include "cli/subcommand.hpp"
#include "cli/transcript_printer.hpp"

ABSL_FLAG(std::string, subject, "Test message from smtplab", "Subject: header");
ABSL_FLAG(std::string, body_file, "", "File with the message body (Unix or CRLF line ends); default: a short text");
ABSL_FLAG(std::string, pipelining, "auto", "auto: pipeline when the server offers PIPELINING (RFC 2920); off: never");
ABSL_FLAG(std::string, helo, "localhost", "Name to give in EHLO/HELO");
ABSL_FLAG(bool, bdat, false, "Send the message with BDAT when the server offers CHUNKING (RFC 3030)");

namespace smtplab::cli {
namespace {

// abseil keeps only the last of a repeated flag; --to is meant to repeat, so
// it is collected here before abseil sees the rest.
std::vector<std::string> take_repeated(std::vector<char*>& args, std::string_view name) {
  std::vector<std::string> values;
  std::vector<char*> rest;
  const std::string dashdash = "--" + std::string(name);
  const std::string single = "-" + std::string(name);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string a = args[i];
    if ((a == dashdash || a == single) && i + 1 < args.size()) {
      values.emplace_back(args[++i]);
    } else if (absl::StartsWith(a, dashdash + "=") || absl::StartsWith(a, single + "=")) {
      values.emplace_back(a.substr(a.find('=') + 1));
    } else {
      rest.push_back(args[i]);
    }
  }
  args = rest;
  return values;
}

// "454 4.7.5 TLS required, but ...": the code, the enhanced code, the text.
std::string said(const smtp::Reply& reply) {
  return absl::StrCat(reply.code, reply.enhanced.empty() ? "" : " ", reply.enhanced, " ", reply.text());
}

}  // namespace

int run_send(std::vector<char*> args) {
  std::vector<std::string> to = take_repeated(args, "to");
  parse_subcommand_flags(*find_subcommand("send"), args,
                         "smtplab send --server HOST:PORT --from A --to B [--to C ...] [--starttls|--tls]\n"
                         "             [--tls-verify] [--tls-ca FILE] [--auth USER:PASS] [flags]");
  const std::string from = absl::GetFlag(FLAGS_from);
  if (from.empty() || to.empty()) {
    std::fprintf(stderr, "smtplab send: --from and at least one --to are required\n");
    return 2;
  }
  std::string host;
  int port = 0;
  const std::string server = absl::GetFlag(FLAGS_server).empty() ? "127.0.0.1:2525" : absl::GetFlag(FLAGS_server);
  if (auto s = sim::split_host_port(server, host, port); !s.ok()) {
    std::fprintf(stderr, "smtplab send: --server: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  const std::string pipelining = absl::GetFlag(FLAGS_pipelining);
  if (pipelining != "auto" && pipelining != "off") {
    std::fprintf(stderr, "smtplab send: --pipelining must be auto or off\n");
    return 2;
  }

  smtp::OutgoingMessage message;
  auto reverse = smtp::parse_path("<" + from + ">", {.allow_utf8 = true, .allow_null = true});
  if (!reverse.ok()) {
    std::fprintf(stderr, "smtplab send: --from %s: %s\n", from.c_str(), std::string(reverse.status().message()).c_str());
    return 2;
  }
  message.reverse_path = *reverse;
  for (const std::string& t : to) {
    auto path = smtp::parse_path("<" + t + ">", {.allow_utf8 = true, .allow_postmaster = true});
    if (!path.ok()) {
      std::fprintf(stderr, "smtplab send: --to %s: %s\n", t.c_str(), std::string(path.status().message()).c_str());
      return 2;
    }
    message.recipients.push_back({*path, {}});
  }
  if (smtp::has_non_ascii(from + absl::StrJoin(to, ""))) message.params.smtputf8 = true;

  std::string body = "This is a test message sent by smtplab.\n";
  if (const std::string file = absl::GetFlag(FLAGS_body_file); !file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "smtplab send: cannot read --body-file %s: %s\n", file.c_str(), std::strerror(errno));
      return 2;
    }
    body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const absl::Time now = absl::Now();
  message.content = agents::compose_message(
      {from, to, absl::GetFlag(FLAGS_subject), body, now,
       absl::StrFormat("%d.%d@%s", absl::ToUnixMicros(now), ::getpid(), absl::GetFlag(FLAGS_helo))});

  smtp::ClientSettings settings;
  settings.helo_domain = absl::GetFlag(FLAGS_helo);
  settings.pipelining = pipelining == "off" ? smtp::PipeliningMode::kOff : smtp::PipeliningMode::kAuto;
  settings.use_bdat = absl::GetFlag(FLAGS_bdat);
  auto tls = client_tls_from_flags(host);
  if (!tls.ok()) {
    std::fprintf(stderr, "smtplab send: %s\n", std::string(tls.status().message()).c_str());
    return 2;
  }
  settings.starttls = tls->starttls;
  settings.tls_active_from_start = tls->implicit;
  if (tls->options.context) tls->options.on_handshake = [](const tls::HandshakeReport& r) { print_handshake(stdout, r); };
  if (const std::string auth = absl::GetFlag(FLAGS_auth); !auth.empty()) {
    const auto colon = auth.find(':');
    if (colon == std::string::npos) {
      std::fprintf(stderr, "smtplab send: --auth takes USER:PASS\n");
      return 2;
    }
    settings.auth = smtp::ClientCredentials{auth.substr(0, colon), auth.substr(colon + 1)};
  }
  TranscriptPrinter printer(stdout, "", true);
  smtp::ClientSession session(settings, &printer);
  session.enqueue(std::move(message));
  session.finish();

  sim::LoopbackRuntime runtime;
  std::printf("=== Trying %s:%d...\n", host.c_str(), port);
  if (auto s = run_client_session(runtime, host, port, session, absl::GetFlag(FLAGS_timeout), tls->options); !s.ok()) {
    std::fprintf(stderr, "smtplab send: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const smtp::TransactionResult& result = session.results()[0];
  bool all = result.accepted();
  for (std::size_t i = 0; i < to.size(); ++i) {
    const bool ok = result.recipient_accepted(i);
    all = all && ok;
    const auto& reply = result.rcpt_replies[i];
    std::printf("=== %-30s %s%s\n", to[i].c_str(), ok ? "accepted" : "NOT delivered",
                reply ? absl::StrCat(" (", said(*reply), ")").c_str() : "");
  }
  if (!result.accepted()) {
    const auto deciding = result.deciding_reply();
    std::printf("=== message NOT accepted: %s\n",
                deciding ? said(*deciding).c_str() : result.error.c_str());
  }
  return all ? 0 : 1;
}

}  // namespace smtplab::cli
