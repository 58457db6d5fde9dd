// One SMTP server session, greeting to QUIT, as a sans-I/O state machine:
// bytes in (receive), bytes out (take_output), and events to an observer.
// It never touches a socket or a clock; the owner moves the bytes, runs the
// TLS handshake when asked, and supplies a ServerPolicy for every decision.
//
// PIPELINING (RFC 2920) falls out of the design: all complete commands in the
// input are answered in order, and the owner writes the replies in one go.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/command.hpp"
#include "agents/smtp/data_framing.hpp"
#include "agents/smtp/line_reader.hpp"
#include "agents/smtp/receive_buffer.hpp"
#include "agents/smtp/reply.hpp"
#include "agents/smtp/server_policy.hpp"
#include "agents/smtp/server_settings.hpp"
#include "agents/smtp/session_event.hpp"

namespace smtplab::smtp {

class ServerSession {
 public:
  ServerSession(ServerPolicy& policy, ServerSettings settings, std::string peer_address,
                SessionObserver* observer = nullptr);

  // Sends the greeting (or the policy's refusal, RFC 5321 3.1).
  void start();
  // Feeds bytes from the client; any replies are queued for take_output().
  void receive(std::string_view bytes);
  // The bytes to send to the client now, in order.
  std::string take_output();
  bool has_output() const { return !out_.empty(); }

  // After QUIT, a 421, or too many errors: flush the output, then close.
  bool wants_close() const { return closing_; }
  // STARTTLS was accepted: flush the 220, then run the TLS handshake, then
  // call tls_established(). Input arriving before that is discarded.
  bool awaiting_tls() const { return awaiting_tls_; }
  // RFC 3207 4.2: the server forgets everything it learnt before TLS.
  void tls_established();
  // The owner's idle timer fired (RFC 5321 4.5.3.2.7): 421 and close.
  void timed_out();

  const SessionState& state() const { return state_; }
  // Lets policies and the trace tie what they record to the connection.
  void set_connection_id(std::uint64_t id) { state_.connection_id = id; }
  const ServerSettings& settings() const { return settings_; }

 private:
  enum class Phase { kCommands, kRefused, kData, kBdat, kAuthResponse };

  // Runs process() over `fresh` (after whatever in_ kept) and keeps the rest.
  void parse(std::string_view fresh);
  void process();
  void handle_line(const CommandLine& line);
  void handle_command(const Command& command);
  void handle_ehlo(const Command& command);
  void handle_mail(const Command& command);
  void handle_rcpt(const Command& command);
  void handle_data();
  void handle_bdat(const Command& command);
  void handle_auth(const Command& command);
  void handle_auth_response(std::string_view line);
  void handle_starttls();
  void finish_data();
  void finish_chunk();
  void complete_auth(const AuthAttempt& attempt);
  void reset_transaction();
  std::optional<Reply> check_extensions(const Command& command) const;

  void send(Reply reply);
  void send_error(Reply reply);  // counts toward max_errors
  void mark_closing();
  void emit(SessionEventKind kind, std::string_view text, std::size_t octets = 0, int code = 0);

  ServerPolicy& policy_;
  ServerSettings settings_;
  SessionObserver* observer_;
  SessionState state_;

  Phase phase_ = Phase::kCommands;
  Phase resume_phase_ = Phase::kCommands;  // where a skipped BDAT chunk returns to
  // Bytes kept from earlier input (a line or chunk not complete yet).
  ReceiveBuffer in_;
  // What process() reads, at pos_: the caller's bytes themselves when
  // nothing was kept (no copy, as Beast's parsers do), else in_'s.
  std::string_view input_;
  std::size_t pos_ = 0;
  std::string out_;
  CommandLineReader reader_;
  bool closing_ = false;
  bool awaiting_tls_ = false;
  int errors_ = 0;

  // The mail transaction (RFC 5321 3.3).
  bool has_mail_ = false;
  bool rcpt_attempted_ = false;
  Envelope envelope_;
  std::optional<DataReader> data_;
  bool bdat_used_ = false;
  std::string bdat_message_;
  std::uint64_t bdat_remaining_ = 0;
  bool bdat_last_ = false;
  std::optional<Reply> bdat_error_;

  // SASL exchange in progress (RFC 4954 4).
  std::string auth_mechanism_;
  std::string auth_login_user_;
  bool auth_login_has_user_ = false;
};

}  // namespace smtplab::smtp
