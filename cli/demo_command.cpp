// smtplab demo: the first thing a newcomer runs. Starts the capture sink on a
// free loopback port, sends it one message with the project's own client,
// then shows the SMTP conversation and the file that landed in the Maildir.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "agents/capture_sink.hpp"
#include "agents/message_composer.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "cli/loopback_delivery.hpp"
#include "cli/subcommand.hpp"
#include "cli/transcript_printer.hpp"
#include "cli/work_directory.hpp"

ABSL_FLAG(std::string, demo_maildir, "", "Keep the Maildir here (default: a temporary one, removed afterwards)");

namespace smtplab::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBody =
    "Hello Bob,\n"
    "\n"
    "This message went through a real SMTP conversation on 127.0.0.1.\n"
    ".This line starts with a dot: on the wire it was sent as '..This' (RFC 5321 4.5.2).\n"
    "Grüße: 8-bit text travels with BODY=8BITMIME (RFC 6152).\n"
    "\n"
    "Alice\n";

}  // namespace

int run_demo(std::vector<char*> args) {
  parse_subcommand_flags(*find_subcommand("demo"), args, "smtplab demo [--demo-maildir DIR]");
  const WorkDirectory work(absl::GetFlag(FLAGS_demo_maildir), "smtplab-demo");
  if (!work.ok()) return 1;
  const std::string& maildir = work.path();
  auto store = agents::MaildirStore::open({.root = maildir, .fsync = true, .hostname = "mx.example.net"});
  if (!store.ok()) {
    std::fprintf(stderr, "smtplab demo: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  agents::CaptureSink sink(**store, {.hostname = "mx.example.net"});
  agents::ServerEndpointSettings server_settings;
  server_settings.session.hostname = "mx.example.net";

  sim::LoopbackRuntime runtime;
  auto port = runtime.listen("127.0.0.1", 0, [&](const sim::ConnectionInfo& info) {
    return std::make_unique<agents::SmtpServerEndpoint>(sink, server_settings, info);
  });
  if (!port.ok()) {
    std::fprintf(stderr, "smtplab demo: %s\n", std::string(port.status().message()).c_str());
    return 1;
  }

  std::printf("smtplab demo\n============\n"
              "A capture server (smtplab sink) listens on 127.0.0.1:%d and stores mail in a Maildir.\n"
              "Our client now sends it one message. C: is the client, S: the server.\n\n",
              *port);
  smtp::OutgoingMessage message;
  message.reverse_path = smtp::parse_path("<alice@example.org>").value();
  message.recipients.push_back({smtp::parse_path("<bob@example.net>").value(), {}});
  message.content = agents::compose_message({"alice@example.org", {"bob@example.net"}, "Hello from smtplab", kBody,
                                             absl::Now(), absl::StrCat(::getpid(), ".demo@client.example.org")});
  TranscriptPrinter printer(stdout, "  ", true);
  smtp::ClientSession session({.helo_domain = "client.example.org"}, &printer);
  session.enqueue(std::move(message));
  session.finish();
  if (auto s = run_client_session(runtime, "127.0.0.1", *port, session, absl::Seconds(30)); !s.ok()) {
    std::fprintf(stderr, "smtplab demo: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  const bool accepted = session.results()[0].accepted();
  int status = accepted ? 0 : 1;
  std::printf("\nWhat happened:\n"
              "  220      the server greets us; EHLO asks which extensions it has (the 250- lines)\n"
              "  MAIL/RCPT the envelope: who sends, who receives; sent together because of PIPELINING\n"
              "  DATA/354 the message text follows, ended by a line with a single dot\n"
              "  250      the server has stored the message on disk (fsync) and takes responsibility\n\n");
  for (const auto& entry : fs::directory_iterator(fs::path(maildir) / "new")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::printf("The stored file %s (CRLF line ends; the server added Return-Path and Received):\n\n",
                (std::string("new/") + entry.path().filename().string()).c_str());
    std::string shown;
    for (char c : text) {
      if (c != '\r') shown += c;
    }
    std::printf("%s\n", shown.c_str());
  }
  std::printf("%s\n", accepted ? "Result: delivered." : "Result: NOT delivered.");
  if (!work.temporary()) std::printf("The Maildir is kept at %s\n", maildir.c_str());
  return status;
}

}  // namespace smtplab::cli
