// One SMTP conversation watched from outside, both directions, written as
// the trace events a server session of smtplab's records (the same kinds,
// explanation keys and details: agents/session_tracer.cpp), so the stepper
// and the visualizer explain a captured session with the same texts as a
// simulated one. What a conforming peer would not have sent, and what the
// capture cannot show, become capture.finding events.
//
// Its whole state is here: what the client's bytes are now (commands, the
// text after DATA's 354, a BDAT chunk, SASL lines, TLS), and the commands
// still waiting for their reply, oldest first (RFC 2920 3.1: replies come
// in the order of the commands).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "capture/tls_decryption.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::capture {

struct ObservedConnection {
  std::uint64_t id = 0;
  std::string client_host, server_host;  // as the trace names them (the addresses)
  std::uint16_t server_port = 25;
  absl::Time epoch;                      // time 0 of the trace
  const KeyLog* keys = nullptr;          // TLS secrets, when the capture came with them
};

// The agent a server on `port` is, as the trace names agents: 587 and 465
// are submission (RFC 6409, RFC 8314), 25 and 2525 relay, 24 the mailbox
// server's LMTP (smtplab's own; RFC 2033 names no port, LHLO says it too).
std::string_view agent_for_port(std::uint16_t port);

class SmtpObserver {
 public:
  SmtpObserver(ObservedConnection connection, std::vector<sim::TraceEvent>& out)
      : c_(std::move(connection)), out_(out), server_agent_(agent_for_port(c_.server_port)) {}

  void opened(absl::Time at, std::string_view client_address, std::string_view server_address, bool midstream);
  void client_bytes(absl::Time at, std::string_view bytes);
  void server_bytes(absl::Time at, std::string_view bytes);
  void gap(absl::Time at, bool from_client, std::uint64_t missing);
  void closed(absl::Time at, bool by_client);
  void reset(absl::Time at);

 private:
  // What the client's bytes are now.
  enum class ClientPhase {
    kCommands,
    kAwaitingReply,  // after DATA, STARTTLS or AUTH: what follows depends on the server's answer
    kData,           // message text, until <CRLF>.<CRLF>
    kChunk,          // BDAT: chunk_left_ more octets of text
    kSasl,           // one line per 334 (RFC 4954 4)
    kEncrypted,      // TLS records; or, after a gap, nothing can be trusted
  };

  void client_lines(absl::Time at);
  // From STARTTLS's 220 (or a first ClientHello) on: octets are records.
  void begin_tls(absl::Time at, bool implicit);
  void tls_bytes(absl::Time at, bool from_client, std::string_view records);
  void client_plaintext(absl::Time at, std::string_view bytes);
  void server_plaintext(absl::Time at, std::string_view bytes);
  void command(absl::Time at, std::string line, bool pipelined);
  void message_text(absl::Time at);
  void reply_line(absl::Time at, std::string_view line);
  void reply_done(absl::Time at, int code);
  void record(absl::Time at, sim::EventKind kind, std::string text, int code, std::string explain,
              sim::TraceEvent::Details details = {}, bool from_client = true);
  void finding(absl::Time at, const char* what, std::string text, std::uint64_t octets = 0, bool from_client = true);
  // Writes the next held command, at `at` if that is later than it came.
  void release_held(absl::Time at);
  void release_all_held();

  ObservedConnection c_;
  std::vector<sim::TraceEvent>& out_;

  ClientPhase client_ = ClientPhase::kCommands;
  std::string client_in_;       // client octets not yet understood
  std::string server_in_;
  bool server_encrypted_ = false;
  bool greeted_ = false;        // the greeting has been seen (or the capture began later)
  // What the replies to come answer, oldest first: a command's verb, or
  // end_of_data and kin. `held`: a pipelined command not yet in the trace.
  struct Waiting {
    std::string answers;
    bool held = false;
  };
  std::deque<Waiting> waiting_;
  // Pipelined commands, written into the trace when the server takes them
  // up: after the reply to the one before, as a server session records them
  // (docs/trace.md, smtp.command). On the wire they came first.
  std::deque<sim::TraceEvent> held_;
  std::string awaiting_;        // the verb whose reply decides kAwaitingReply
  bool reply_open_ = false;     // a multi-line reply has begun
  bool pipelining_offered_ = false;
  bool tls_ = false;            // the session is inside TLS (STARTTLS done, or port 465)
  std::uint64_t chunk_left_ = 0;
  bool chunk_last_ = false;
  std::size_t data_octets_ = 0;   // of the message being read
  bool data_at_line_start_ = true;
  bool smuggling_noted_ = false, bare_noted_ = false;
  bool unadvertised_noted_ = false;
  bool ehlo_done_ = false;        // the EHLO (or LHLO) reply has been read
  bool lmtp_ = false;             // LHLO: one reply per recipient to the final dot
  int accepted_recipients_ = 0;   // of the transaction, for LMTP's replies
  bool closed_ = false;
  std::unique_ptr<TlsDecryptor> tls_channel_;  // set once TLS begins
  bool tls_announced_ = false;  // the handshake's outcome is in the trace
  std::string server_agent_;  // agent_for_port, or mda once LHLO is seen
};

}  // namespace smtplab::capture
