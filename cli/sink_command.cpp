// smtplab sink: a capture server (like Mailpit or Postfix's smtp-sink) that
// accepts mail for anyone and files it into a Maildir, printing the transcript.
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <variant>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "agents/capture_sink.hpp"
#include "agents/connection_gate.hpp"
#include "agents/maildir_group_commit.hpp"
#include "agents/maildir_store.hpp"
#include "agents/smtp_server_endpoint.hpp"
#include "cli/common_flags.hpp"
#include "cli/subcommand.hpp"
#include "cli/transcript_printer.hpp"
#include "sim/connection.hpp"
#include "sim/loopback/loopback_runtime.hpp"

ABSL_FLAG(std::string, listen, "127.0.0.1:2525", "Address to listen on, HOST:PORT (port 0 picks a free port)");
ABSL_FLAG(std::string, maildir, "", "Maildir to store messages in (created if missing); required");
ABSL_FLAG(bool, no_fsync, false,
          "Do not fsync before answering 250 (benchmarks only: acknowledged mail can be lost in a crash)");
ABSL_FLAG(bool, group_commit, true,
          "Make the messages whose final dot arrives while a sync runs durable with one sync for all "
          "(syncfs), each still answered 250 only once its file is; false: one fsync per message, in turn");
ABSL_FLAG(int64_t, max_message_size, 10240000, "Largest message accepted, in octets (advertised with SIZE)");
ABSL_FLAG(std::string, hostname, "smtplab.localhost", "Name in the greeting and Received headers");
ABSL_FLAG(int, threads, 1, "Threads serving connections");
ABSL_FLAG(int, max_connections, 100, "Simultaneous connections; more get 421 4.7.0 (Postfix default_process_limit)");
ABSL_FLAG(int, max_connections_per_client, 50,
          "Simultaneous connections from one address; more get 421 4.7.0; 0: no limit "
          "(Postfix smtpd_client_connection_count_limit)");
ABSL_FLAG(bool, quiet, false, "Do not print the transcript");
ABSL_FLAG(std::string, bare_lf, "reject",
          "Bare CR/LF handling: reject (RFC 5321), normalize (Postfix), accept (UNSAFE: open to SMTP smuggling)");
ABSL_FLAG(bool, accept_nul, false,
          "Store a NUL in message text as it came (default: refuse with 554 5.6.0, RFC 5322 2.3)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate (chain) to offer STARTTLS with; needs --tls-key");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Minutes(5),
          "Close a silent client after this (RFC 5321 4.5.3.2.7; Postfix smtpd_timeout)");
ABSL_FLAG(absl::Duration, stress_idle_timeout, absl::Seconds(10),
          "The same while every connection slot is taken (Postfix ${stress?10}{300})");
ABSL_FLAG(std::string, per_request_deadline, "stress",
          "When a command or message must arrive within the timeout instead of every byte restarting it: "
          "never, stress (while full; Postfix's default) or always (Postfix smtpd_per_request_deadline)");
ABSL_FLAG(int, min_data_rate, 500,
          "Under a per-request deadline, message text earns one second per this many octets "
          "(Postfix smtpd_min_data_rate)");
ABSL_FLAG(absl::Duration, evict_idle_after, absl::Seconds(1),
          "A new client at a full server takes the slot of a session idle this long (it gets 421), one of "
          "the client holding the most slots if that holds two more than the newcomer; 0: never");

namespace smtplab::cli {
namespace {

absl::StatusOr<std::string> read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read ", path));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// --tls-cert/--tls-key: the server's TLS, or null when not asked for.
absl::StatusOr<std::shared_ptr<const tls::TlsContext>> server_tls_from_flags() {
  const std::string cert = absl::GetFlag(FLAGS_tls_cert), key = absl::GetFlag(FLAGS_tls_key);
  if (cert.empty() && key.empty()) {
    if (absl::GetFlag(FLAGS_tls)) return absl::InvalidArgumentError("--tls needs --tls-cert and --tls-key");
    return nullptr;
  }
  if (cert.empty() || key.empty()) return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  tls::TlsServerSettings settings;
  auto cert_pem = read_file(cert, "--tls-cert");
  if (!cert_pem.ok()) return cert_pem.status();
  auto key_pem = read_file(key, "--tls-key");
  if (!key_pem.ok()) return key_pem.status();
  settings.credentials = {*cert_pem, *key_pem};
  return tls::TlsContext::server(settings);
}

}  // namespace

int run_sink(std::vector<char*> args) {
  parse_subcommand_flags(*find_subcommand("sink"), args,
                         "smtplab sink --maildir DIR [--listen 127.0.0.1:2525] [flags]\n\n"
                         "Accepts mail for any recipient and stores each message in DIR/new/ with\n"
                         "Return-Path and Received headers, fsynced before the 250 reply (sessions\n"
                         "finishing together share one sync: --group-commit).");
  const std::string maildir = absl::GetFlag(FLAGS_maildir);
  if (maildir.empty()) {
    std::fprintf(stderr, "smtplab sink: --maildir DIR is required\n");
    return 2;
  }
  std::string host;
  int port = 0;
  if (auto s = sim::split_host_port(absl::GetFlag(FLAGS_listen), host, port); !s.ok()) {
    std::fprintf(stderr, "smtplab sink: --listen: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  agents::ServerEndpointSettings settings;
  settings.session.hostname = absl::GetFlag(FLAGS_hostname);
  if (absl::GetFlag(FLAGS_max_message_size) <= 0) {
    std::fprintf(stderr, "smtplab sink: --max-message-size must be positive\n");
    return 2;
  }
  settings.session.max_message_octets = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_message_size));
  settings.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  settings.stress_idle_timeout = absl::GetFlag(FLAGS_stress_idle_timeout);
  if (absl::GetFlag(FLAGS_min_data_rate) < 1) {
    std::fprintf(stderr, "smtplab sink: --min-data-rate must be at least 1\n");
    return 2;
  }
  settings.min_data_rate = static_cast<std::size_t>(absl::GetFlag(FLAGS_min_data_rate));
  const std::string deadline = absl::GetFlag(FLAGS_per_request_deadline);
  if (deadline == "never") {
    settings.per_request_deadline = agents::PerRequestDeadline::kNever;
  } else if (deadline == "stress") {
    settings.per_request_deadline = agents::PerRequestDeadline::kUnderStress;
  } else if (deadline == "always") {
    settings.per_request_deadline = agents::PerRequestDeadline::kAlways;
  } else {
    std::fprintf(stderr, "smtplab sink: --per-request-deadline must be never, stress or always\n");
    return 2;
  }
  settings.session.accept_nul_in_text = absl::GetFlag(FLAGS_accept_nul);
  const std::string bare = absl::GetFlag(FLAGS_bare_lf);
  if (bare == "reject") {
    settings.session.bare_line_ending = smtp::BareLineEnding::kReject;
  } else if (bare == "normalize") {
    settings.session.bare_line_ending = smtp::BareLineEnding::kNormalize;
  } else if (bare == "accept") {
    settings.session.bare_line_ending = smtp::BareLineEnding::kAcceptAsLineEnd;
  } else {
    std::fprintf(stderr, "smtplab sink: --bare-lf must be reject, normalize or accept\n");
    return 2;
  }

  auto tls_context = server_tls_from_flags();
  if (!tls_context.ok()) {
    std::fprintf(stderr, "smtplab sink: %s\n", std::string(tls_context.status().message()).c_str());
    return 2;
  }
  settings.tls = *tls_context;
  settings.session.offer_starttls = settings.tls != nullptr;
  settings.implicit_tls = absl::GetFlag(FLAGS_tls);

  auto store = agents::MaildirStore::open(
      {.root = maildir, .fsync = !absl::GetFlag(FLAGS_no_fsync), .hostname = settings.session.hostname});
  if (!store.ok()) {
    std::fprintf(stderr, "smtplab sink: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  // Commits of messages go to their own thread, and come back to each
  // session's strand; it stops (committing what it holds) before the runtime.
  std::optional<agents::MaildirGroupCommit> group_commit;
  if (absl::GetFlag(FLAGS_group_commit) && !absl::GetFlag(FLAGS_no_fsync)) group_commit.emplace(**store);
  agents::CaptureSink sink(**store, {.hostname = settings.session.hostname,
                                     .group_commit = group_commit ? &*group_commit : nullptr});
  if (absl::GetFlag(FLAGS_max_connections) < 1 || absl::GetFlag(FLAGS_max_connections_per_client) < 0) {
    std::fprintf(stderr, "smtplab sink: --max-connections must be at least 1, --max-connections-per-client at least 0\n");
    return 2;
  }
  const bool quiet = absl::GetFlag(FLAGS_quiet);
  std::atomic<unsigned long> connection_number{0};

  // The gate measures idleness on the runtime's clock, and the runtime's
  // connections hold the gate's tickets: the runtime goes first, at the end.
  std::optional<sim::LoopbackRuntime> runtime(std::in_place, absl::GetFlag(FLAGS_threads));
  agents::ConnectionGate gate(
      {.max_connections = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_connections)),
       .max_per_client = static_cast<std::size_t>(absl::GetFlag(FLAGS_max_connections_per_client)),
       .evict_idle_after = absl::GetFlag(FLAGS_evict_idle_after)},
      settings.session.hostname, runtime->clock());
  auto bound = runtime->listen(host, port, [&](const sim::ConnectionInfo& info) {
    const unsigned long n = ++connection_number;
    std::unique_ptr<smtp::SessionObserver> printer;
    if (!quiet) {
      printer = std::make_unique<TranscriptPrinter>(stderr, absl::StrCat("[", n, "] "), false);
      std::fprintf(stderr, "[%lu] ** connection from %s\n", n, info.peer_address.c_str());
    }
    agents::ServerEndpointSettings connection_settings = settings;
    if (!quiet) {
      connection_settings.on_tls = [n](const sim::ConnectionInfo&, const tls::HandshakeReport& r) {
        if (r.error.empty()) {
          std::fprintf(stderr, "[%lu] ** TLS established: %s %s\n", n, r.version.c_str(), r.cipher.c_str());
        } else {
          std::fprintf(stderr, "[%lu] ** TLS handshake failed: %s\n", n, r.error.c_str());
        }
      };
    }
    auto endpoint = agents::admit_through(gate, sink, connection_settings, info, std::move(printer));
    if (!quiet && endpoint->refusal()) {
      const smtp::Reply& refusal = *endpoint->refusal();
      std::fprintf(stderr, "[%lu] S: %d %s %s\n", n, refusal.code, refusal.enhanced.c_str(), refusal.text().c_str());
    }
    return endpoint;
  });
  if (!bound.ok()) {
    std::fprintf(stderr, "smtplab sink: %s\n", std::string(bound.status().message()).c_str());
    return 1;
  }
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::fprintf(stderr, "smtplab sink: listening on %s:%d, storing into %s/new%s%s\n", shown_host.c_str(), *bound,
               maildir.c_str(),
               absl::GetFlag(FLAGS_no_fsync) ? " (no fsync)" : group_commit ? " (group commit)" : "",
               settings.tls == nullptr ? "" : settings.implicit_tls ? ", implicit TLS" : ", STARTTLS offered");
  std::fflush(stderr);
  runtime->run_until_signal();
  // No session runs any more: what the group commit holds is committed, and
  // the answers, which no one can receive, are dropped.
  std::string commits;
  if (group_commit) {
    group_commit->stop();
    commits = absl::StrCat(" (", group_commit->messages(), " committed in ", group_commit->groups(), " groups)");
  }
  runtime.reset();
  std::fprintf(stderr, "smtplab sink: stopped after storing %zu messages%s\n", sink.delivered(), commits.c_str());
  return 0;
}

}  // namespace smtplab::cli
