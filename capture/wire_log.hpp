// Everything a network told its WireObserver, kept in order with two stamps:
// the wall-clock time a capture shows (the run's epoch plus its clock) and
// how many trace events had been recorded by then, which is how the export
// finds the events that explain each packet (capture_export.hpp).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "sim/trace/trace.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::capture {

struct WireStamp {
  absl::Time at;
  std::uint64_t trace_mark = 0;  // Trace::count() when it happened
};

namespace wire {
struct Connect {
  std::uint64_t connection;
  std::string client, server;
};
struct Refused {
  std::uint64_t connection;
  std::string client, server;
};
struct Unanswered {
  std::uint64_t connection;
  std::string client, server;
  absl::Duration waited;
};
struct Bytes {
  std::uint64_t connection;
  sim::WireSide from;
  std::string bytes;
};
struct Close {
  std::uint64_t connection;
  sim::WireSide from;
};
struct Reset {
  std::uint64_t connection;
};
struct DnsQuery {
  std::uint16_t id;
  sim::WireDnsQuestion question;
};
struct DnsAnswer {
  std::uint16_t id;
  sim::WireDnsQuestion question;
  int rcode;
  std::vector<sim::WireDnsRecord> answers;
};
}  // namespace wire

using WireRecordBody =
    std::variant<wire::Connect, wire::Refused, wire::Unanswered, wire::Bytes, wire::Close, wire::Reset,
                 wire::DnsQuery, wire::DnsAnswer>;
struct WireRecord {
  WireStamp stamp;
  WireRecordBody body;
};

// Safe to call from the loopback runtime's threads.
class WireLog final : public sim::WireObserver {
 public:
  // `epoch` is when the run's clock reads zero (Clock::epoch()); `trace`
  // may be null (then no packet gets comments).
  WireLog(absl::Time epoch, const sim::Trace* trace) : epoch_(epoch), trace_(trace) {}

  void on_connect(absl::Duration at, std::uint64_t connection, const std::string& client,
                  const std::string& server) override;
  void on_refused(absl::Duration at, std::uint64_t connection, const std::string& client,
                  const std::string& server) override;
  void on_unanswered(absl::Duration at, std::uint64_t connection, const std::string& client,
                     const std::string& server, absl::Duration waited) override;
  void on_bytes(absl::Duration at, std::uint64_t connection, sim::WireSide from, std::string_view bytes) override;
  void on_close(absl::Duration at, std::uint64_t connection, sim::WireSide from) override;
  void on_reset(absl::Duration at, std::uint64_t connection) override;
  void on_dns_query(absl::Duration at, std::uint16_t id, const sim::WireDnsQuestion& question) override;
  void on_dns_answer(absl::Duration at, std::uint16_t id, const sim::WireDnsQuestion& question, int rcode,
                     const std::vector<sim::WireDnsRecord>& answers) override;

  // What was recorded so far, in the order it was told.
  std::vector<WireRecord> records() const;

 private:
  void add(absl::Duration at, WireRecordBody body);

  absl::Time epoch_;
  const sim::Trace* trace_;
  mutable std::mutex mutex_;
  std::vector<WireRecord> records_;
};

}  // namespace smtplab::capture
