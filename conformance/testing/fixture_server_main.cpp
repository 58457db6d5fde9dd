// A server broken in one known way (broken_server.hpp), listening on
// loopback: what a failed conformance check looks like on a real socket.
// The implementer's guide shows `smtplab conform` against it, and
// tests/docs/check_doc_outputs.py starts it to check that report.
//
//   conformance_fixture_server DEFECT [HOST:PORT]    (default 127.0.0.1:0, a free port)
//
// Prints "listening on HOST:PORT" once it accepts connections; SIGINT or
// SIGTERM stops it. Every message is answered 250 and thrown away.
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "agents/smtp_server_endpoint.hpp"
#include "conformance/testing/broken_server.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace {

using smtplab::conformance::testing::Defect;

const std::map<std::string, Defect>& defects() {
  static const auto* table = new std::map<std::string, Defect>{
      {"skip-sequence-checks", Defect::kSkipSequenceChecks},
      {"broken-multiline", Defect::kBrokenMultiline},
      {"keep-input-after-starttls", Defect::kKeepInputAfterStartTls},
      {"reverse-pipelined-replies", Defect::kReversePipelinedReplies},
      {"accept-unknown-commands", Defect::kAcceptUnknownCommands},
      {"starttls-inside-tls", Defect::kStartTlsInsideTls},
      {"keep-ehlo-after-tls", Defect::kKeepEhloAfterTls},
      {"split-command-at-bare-lf", Defect::kSplitCommandAtBareLf},
  };
  return *table;
}

// Takes everything and keeps nothing: the fixture is about the protocol.
class DiscardingPolicy : public smtplab::smtp::ServerPolicy {
 public:
  smtplab::smtp::Reply on_message(const smtplab::smtp::SessionState&, const smtplab::smtp::Envelope&,
                                  std::string) override {
    return smtplab::smtp::make_reply(250, "2.0.0", "Ok: discarded");
  }
};

}  // namespace

int main(int argc, char** argv) {
  const auto defect = argc >= 2 ? defects().find(argv[1]) : defects().end();
  if (argc < 2 || argc > 3 || defect == defects().end()) {
    std::fprintf(stderr, "usage: conformance_fixture_server DEFECT [HOST:PORT]\ndefects:");
    for (const auto& [name, _] : defects()) std::fprintf(stderr, " %s", name.c_str());
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::string host = "127.0.0.1";
  int port = 0;
  if (argc == 3) {
    if (auto s = smtplab::sim::split_host_port(argv[2], host, port); !s.ok()) {
      std::fprintf(stderr, "conformance_fixture_server: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  DiscardingPolicy policy;
  smtplab::agents::ServerEndpointSettings settings;
  settings.session.hostname = "fixture.example";
  settings.make_tap = smtplab::conformance::testing::tap_for(defect->second);
  smtplab::sim::LoopbackRuntime runtime;
  auto bound = runtime.listen(host, port, [&](const smtplab::sim::ConnectionInfo& info) {
    return std::make_unique<smtplab::agents::SmtpServerEndpoint>(policy, settings, info);
  });
  if (!bound.ok()) {
    std::fprintf(stderr, "conformance_fixture_server: %s\n", std::string(bound.status().message()).c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", host.c_str(), *bound);
  std::fflush(stdout);
  runtime.run_until_signal();
  return 0;
}
