// A deliberately simple SMTP client for conformance checks: a blocking
// socket with a deadline on every wait, raw line and byte sending (so a
// check can send what a polite client never would), the engine's reply
// parser for what comes back, and a transcript of everything. A server that
// never answers costs one timeout, never a hang.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agents/smtp/reply.hpp"
#include "absl/time/time.h"
#include "sim/tls/tls_channel.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::conformance {

// How the probe uses TLS for a whole check.
struct ProbeTls {
  enum class Mode { kNone, kStartTls, kImplicit } mode = Mode::kNone;
  std::shared_ptr<const tls::TlsContext> context;  // a client context (trusted roots)
  std::string server_name;                          // what the certificate must name
};

// Where probes tell what they put on the wire and get back (`conform
// --pcap`): seen from the probe's end, the client's.
struct ProbeWire {
  sim::WireObserver* observer = nullptr;
  absl::Time epoch;                          // what the observer's times count from
  std::uint64_t* next_connection = nullptr;  // ids in the capture, shared by a run's probes
};

struct TranscriptLine {
  char who;  // 'C' client, 'S' server, '*' note
  std::string text;
};

class Probe {
 public:
  Probe(std::string host, int port, std::chrono::milliseconds timeout, ProbeTls tls = {})
      : host_(std::move(host)), port_(port), timeout_(timeout), tls_(std::move(tls)) {}
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  absl::Status connect();
  // The next complete reply; an error on timeout, close, or a malformed reply.
  absl::StatusOr<smtp::Reply> reply();
  absl::StatusOr<smtp::Reply> reply(std::chrono::milliseconds timeout);
  // Sends `line` + CRLF and reads the reply.
  absl::StatusOr<smtp::Reply> command(std::string_view line);
  void send_line(std::string_view line);  // + CRLF, no reply read
  void send_raw(std::string_view bytes, std::string_view shown);  // exactly these bytes
  // True if the server closed the connection (read returns 0) within `timeout`.
  bool closed_within(std::chrono::milliseconds timeout);
  void close();
  void note(std::string text) { transcript_.push_back({'*', std::move(text)}); }
  // From the next connect() on, tells `wire` of every connection.
  void record_wire(const ProbeWire& wire) { wire_ = wire; }

  // Greeting + EHLO; returns the EHLO reply (or the first failure). With
  // ProbeTls::kStartTls it also runs STARTTLS and says EHLO again.
  absl::StatusOr<smtp::Reply> open_session(std::string_view helo = "conformance.smtplab.invalid");
  // EHLO only (after a greeting or a handshake); remembers the extensions.
  absl::StatusOr<smtp::Reply> ehlo(std::string_view helo = "conformance.smtplab.invalid");
  // After a 220 to STARTTLS (or right after connect for implicit TLS): the
  // TLS handshake, within the timeout. Everything after it is encrypted.
  absl::Status handshake();
  bool tls_active() const { return channel_ && channel_->state() == tls::TlsChannel::State::kEstablished; }
  const tls::HandshakeReport* tls_report() const { return channel_ ? &channel_->report() : nullptr; }
  bool can_do_tls() const { return tls_.context != nullptr; }
  ProbeTls::Mode tls_mode() const { return tls_.mode; }
  bool offers(std::string_view keyword) const;
  std::string extension_params(std::string_view keyword) const;

  const std::vector<TranscriptLine>& transcript() const { return transcript_; }
  bool connected() const { return fd_ >= 0; }

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);
  // Raw socket I/O, below TLS.
  bool write_all(std::string_view bytes);
  bool flush_tls();
  std::string host_;
  int port_;
  std::chrono::milliseconds timeout_;
  ProbeTls tls_;
  std::unique_ptr<tls::TlsChannel> channel_;
  int fd_ = -1;
  smtp::ReplyParser parser_;
  std::vector<TranscriptLine> transcript_;
  std::vector<std::string> extensions_;  // EHLO lines after the first, upper-cased keyword first
  bool peer_closed_ = false;
  // The capture: what the probe's socket sends and receives.
  absl::Duration wire_now() const { return absl::Now() - wire_.epoch; }
  void wire_connected();
  ProbeWire wire_;
  std::uint64_t wire_connection_ = 0;  // 0: this connection is not recorded
};

}  // namespace smtplab::conformance
