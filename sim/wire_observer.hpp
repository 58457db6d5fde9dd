// What a network puts on the wire, told to whoever writes it down as a
// capture (capture/wire_log.hpp, for `--pcap`). A network calls it from the
// place it takes its trace: the server's end of each connection, which sees
// the client's bytes when they arrive and its own when it sends them (a
// client whose server is not ours, conform's probe, tells it from its own
// end). The bytes are those on the wire: TLS records once a session is
// encrypted. Each call comes before the trace records the event about the
// same thing; the capture's comments rely on that order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"

namespace smtplab::sim {

// Which end sent a segment or a FIN.
enum class WireSide { kClient, kServer };

// One question and its answer as a resolver would put them in a DNS message
// (RFC 1035 4.1): the numbers of the protocol, so that no layer below the
// capture needs to know how a simulated zone stores them.
struct WireDnsRecord {
  std::uint16_t type = 0;  // 1 A, 28 AAAA, 15 MX, 16 TXT (RFC 1035 3.2.2, RFC 3596)
  std::uint32_t ttl = 300;
  std::uint16_t preference = 0;  // MX only
  std::string value;             // the address, the exchange, the text
};
struct WireDnsQuestion {
  std::string asker;  // the host that asks
  std::string name;
  std::uint16_t type = 0;
};

class WireObserver {
 public:
  virtual ~WireObserver() = default;
  // `at` is the run's own clock (virtual time in the simulator). Addresses
  // are "192.0.2.10:40001" or "[2001:db8::1]:25".
  virtual void on_connect(absl::Duration at, std::uint64_t connection, const std::string& client,
                          const std::string& server) = 0;
  // Nothing listens there: the SYN is answered with a reset. `connection`
  // is the id the trace gives the attempt.
  virtual void on_refused(absl::Duration at, std::uint64_t connection, const std::string& client,
                          const std::string& server) = 0;
  // Nothing answers at all: SYNs go out until the client gives up after `waited`.
  virtual void on_unanswered(absl::Duration at, std::uint64_t connection, const std::string& client,
                             const std::string& server, absl::Duration waited) = 0;
  virtual void on_bytes(absl::Duration at, std::uint64_t connection, WireSide from, std::string_view bytes) = 0;
  // `from` has closed its end (a FIN).
  virtual void on_close(absl::Duration at, std::uint64_t connection, WireSide from) = 0;
  virtual void on_reset(absl::Duration at, std::uint64_t connection) = 0;
  // The resolver of `question.asker` sends query `id`; later its answer
  // comes (none when the query times out). `rcode`: 0 NOERROR, 2 SERVFAIL,
  // 3 NXDOMAIN (RFC 1035 4.1.1).
  virtual void on_dns_query(absl::Duration at, std::uint16_t id, const WireDnsQuestion& question) = 0;
  virtual void on_dns_answer(absl::Duration at, std::uint16_t id, const WireDnsQuestion& question, int rcode,
                             const std::vector<WireDnsRecord>& answers) = 0;
};

}  // namespace smtplab::sim
