// How fast the simulator pushes mail through the whole chain in virtual time:
// N messages of about 1 KiB from the MUA through MSA -> MTA -> MTA -> MDA.
// Prints wall time, messages/s, trace events/s and peak memory for each N.
// Each N runs in a child process so its peak memory is its own.
//
// Run: build/bin/smtplab_chain_bench [--connection_cache=on|off] [--no_fork] [N ...]
//      (default: the cache on, N = 1000 10000 100000)
// --no_fork runs each N in this process, for a profiler that does not follow
// children (heaptrack, perf without --inherit); peak memory is then cumulative.
//
// "allocs/msg" counts calls to operator new per message delivered: the
// figure the speed work drives down (issue 14), as each is a malloc and a
// free on the hot path.
//
// With the connection cache on (Postfix's smtp_connection_cache_destinations,
// idle limit 2 s), the MUA and each MTA keep their session to the next hop
// open and send the next message over it, as a busy real MTA does; off, every
// message opens, greets, EHLOs and QUITs a connection at every hop.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <vector>

#include "agents/testing/mail_world.hpp"

namespace {
std::atomic<std::uint64_t> allocations{0};
}  // namespace

// Counting replacements of the global allocation functions ([new.delete]);
// the rest of the family forwards to these.
void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using smtplab::agents::testing::MailWorld;

bool connection_cache = true;
bool no_fork = false;

void run_one(long n) {
  MailWorld world({.seed = 1,
                   .trace_level = smtplab::sim::TraceLevel::kMessages,
                   .keep_trace = false,
                   .connection_cache = {.enabled = connection_cache}});
  std::string body;
  while (body.size() < 1024) body += "The quick brown fox jumps over the lazy dog, again and again.\r\n";
  // One message every 10 ms of virtual time: the queues stay short, as in a
  // steady flow of mail, and the cost measured is per message. Each send
  // schedules the next, so the event queue does not hold N future sends.
  long sent = 0;
  std::function<void()> send_next = [&] {
    world.send({sent % 2 ? "bob@example.net" : "carol@example.net"}, "bench", body);
    if (++sent < n) world.scheduler.schedule(absl::Milliseconds(10), send_next);
  };
  world.scheduler.schedule(absl::ZeroDuration(), send_next);
  const auto start = std::chrono::steady_clock::now();
  const std::uint64_t allocations_before = allocations.load();
  world.run();
  const std::uint64_t allocations_in_run = allocations.load() - allocations_before;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t delivered = world.net_mda->mailbox("bob").size() + world.net_mda->mailbox("carol").size();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::size_t connections = world.network.connections_opened();
  std::printf("%10ld %10zu %10.2f %12.0f %14.0f %12.0f %10.1f %12zu %11.0f\n", n, delivered, seconds, n / seconds,
              world.scheduler.events_run() / seconds, world.trace.count() / seconds, usage.ru_maxrss / 1024.0,
              connections, static_cast<double>(allocations_in_run) / static_cast<double>(n));
  std::fflush(stdout);
  if (delivered != static_cast<std::size_t>(n)) std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<long> sizes;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--connection_cache=on" || arg == "--connection_cache=off") {
      connection_cache = arg.ends_with("on");
    } else if (arg == "--no_fork") {
      no_fork = true;
    } else if (const long n = std::atol(argv[i]); n > 0) {
      sizes.push_back(n);
    } else {
      std::fprintf(stderr, "usage: %s [--connection_cache=on|off] [--no_fork] [N ...]\n", argv[0]);
      return 2;
    }
  }
  if (sizes.empty()) sizes = {1000, 10000, 100000};
  std::printf("MUA -> MSA -> MTA -> MTA -> MDA, ~1 KiB messages, virtual time, message-level trace, "
              "connection cache %s, allocator %s\n",
              connection_cache ? "on (idle limit 2 s)" : "off", SMTPLAB_ALLOCATOR);
  std::printf("%10s %10s %10s %12s %14s %12s %10s %12s %11s\n", "messages", "delivered", "wall s", "messages/s",
              "sched events/s", "trace ev/s", "peak MiB", "connections", "allocs/msg");
  int status = 0;
  std::fflush(stdout);  // or the child would print the header again
  for (long n : sizes) {
    if (no_fork) {
      run_one(n);
      continue;
    }
    const pid_t child = fork();
    if (child == 0) {
      run_one(n);
      std::_Exit(0);
    }
    int child_status = 0;
    waitpid(child, &child_status, 0);
    if (!WIFEXITED(child_status) || WEXITSTATUS(child_status) != 0) status = 1;
  }
  return status;
}
