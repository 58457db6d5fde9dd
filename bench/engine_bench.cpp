// Microbenchmarks of the sans-I/O engine: how fast it parses commands,
// unstuffs DATA, and runs whole transactions with no I/O at all.
// Run: build/bin/smtplab_engine_bench
#include <benchmark/benchmark.h>

#include <string>

#include "agents/smtp/client_session.hpp"
#include "agents/smtp/command.hpp"
#include "agents/smtp/data_framing.hpp"
#include "agents/smtp/server_session.hpp"

namespace {

using namespace smtplab::smtp;

void BM_ParseCommands(benchmark::State& state) {
  const std::string lines[] = {
      "EHLO client.example.org",
      "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME",
      "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE",
      "RCPT TO:<\"quoted name\"@[192.0.2.1]>",
      "DATA",
      "QUIT",
  };
  for (auto _ : state) {
    for (const auto& line : lines) benchmark::DoNotOptimize(parse_command(line));
  }
  state.SetItemsProcessed(state.iterations() * std::size(lines));
  state.SetLabel("items = commands");
}
BENCHMARK(BM_ParseCommands);

// A 1 MiB message of 76-column lines, a tenth of them starting with a dot.
std::string stuffed_message() {
  std::string message;
  for (int i = 0; message.size() < (1 << 20); ++i) {
    message += (i % 10 == 0 ? "." : "x") + std::string(74, 'a' + i % 26) + "\r\n";
  }
  std::string wire;
  append_dot_stuffed(wire, message);
  return wire;
}

void BM_UnstuffData(benchmark::State& state) {
  const std::string wire = stuffed_message();
  for (auto _ : state) {
    DataReader reader(DataLimits{.max_message_octets = 2 << 20});
    benchmark::DoNotOptimize(reader.feed(wire));
    benchmark::DoNotOptimize(reader.take_message());
  }
  state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_UnstuffData);

// The same text read as a streaming server reads it (ServerPolicy::
// open_message): 64 KiB pieces, each piece's text handed on and the buffer
// reused. This is the scanner's own speed; BM_UnstuffData adds the cost of
// a fresh 1 MiB buffer per message, which depends on the allocator: with
// glibc's, mostly the kernel's page faults (0.14 GB/s on this machine), with
// jemalloc, the default build's, little (6 GB/s; 2026-12-04).
void BM_UnstuffDataStreamed(benchmark::State& state) {
  const std::string wire = stuffed_message();
  DataReader reader(DataLimits{.max_message_octets = 2 << 20});
  for (auto _ : state) {
    reader = DataReader(DataLimits{.max_message_octets = 2 << 20});
    reader.expect_octets(64 * 1024);
    std::size_t handed_on = 0;
    for (std::size_t at = 0; at < wire.size() && !reader.complete();) {
      at += reader.feed(std::string_view(wire).substr(at, 64 * 1024));
      handed_on += reader.text().size();
      reader.clear_text();
    }
    benchmark::DoNotOptimize(handed_on);
  }
  state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_UnstuffDataStreamed);

void BM_StuffData(benchmark::State& state) {
  std::string message;
  for (int i = 0; message.size() < (1 << 20); ++i) message += (i % 10 == 0 ? "." : "x") + std::string(74, 'q') + "\r\n";
  for (auto _ : state) {
    std::string wire;
    append_dot_stuffed(wire, message);
    benchmark::DoNotOptimize(wire);
  }
  state.SetBytesProcessed(state.iterations() * message.size());
}
BENCHMARK(BM_StuffData);

class NullPolicy : public ServerPolicy {
 public:
  Reply on_message(const SessionState&, const Envelope&, std::string) override {
    return make_reply(250, "2.0.0", "Ok");
  }
};

// One pipelined 1 KiB transaction through a server session, as smtp-source sends it.
void BM_ServerTransaction(benchmark::State& state) {
  std::string input = "EHLO client.example.org\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n";
  std::string body;
  while (body.size() < 1024) body += std::string(78, 'b') + "\r\n";
  input += body + ".\r\nQUIT\r\n";
  NullPolicy policy;
  for (auto _ : state) {
    ServerSession session(policy, {}, "127.0.0.1:1");
    session.start();
    session.receive(input);
    benchmark::DoNotOptimize(session.take_output());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel("items = sessions (EHLO..QUIT, 1 KiB message)");
}
BENCHMARK(BM_ServerTransaction);

// Moves bytes between a client and a server session until both are quiet.
void converse(ClientSession& client, ServerSession& server) {
  for (int turn = 0; turn < 32; ++turn) {
    bool moved = false;
    if (client.has_output()) {
      server.receive(client.take_output());
      moved = true;
    }
    if (std::string out = server.take_output(); !out.empty()) {
      client.receive(out);
      moved = true;
    }
    if (!moved) return;
  }
}

// One 1 KiB transaction on a session that is already open (past EHLO), both
// ends: what one hop of the chain costs in engine work alone when the
// connection is reused. The chain's four hops cost at least four of these.
void BM_TransactionOnOpenSession(benchmark::State& state) {
  NullPolicy policy;
  ServerSession server(policy, {}, "127.0.0.1:1");
  server.start();
  ClientSession client(ClientSettings{.helo_domain = "client.example.org"});
  OutgoingMessage message;
  message.reverse_path = *parse_path("<a@example.org>");
  message.recipients.push_back({*parse_path("<b@example.net>"), {}});
  while (message.content.size() < 1024) message.content += std::string(78, 'b') + "\r\n";
  converse(client, server);  // greeting and EHLO
  std::size_t done = 0;
  for (auto _ : state) {
    const std::size_t index = client.enqueue(message);
    converse(client, server);
    if (!client.results()[index].accepted()) {
      state.SkipWithError("the transaction was not accepted");
      break;
    }
    ++done;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(done));
  state.SetLabel("items = transactions (MAIL..250, 1 KiB, pipelined, client + server)");
}
BENCHMARK(BM_TransactionOnOpenSession);

}  // namespace

int main(int argc, char** argv) {
  // The allocator moves these figures (BM_UnstuffData most): say which one ran.
  benchmark::AddCustomContext("allocator", SMTPLAB_ALLOCATOR);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
