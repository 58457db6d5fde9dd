// One SMTP server session, greeting to QUIT, as a sans-I/O state machine:
// bytes in (receive), bytes out (take_output), and events to an observer.
// It never touches a socket or a clock; the owner moves the bytes, runs the
// TLS handshake when asked, and supplies a ServerPolicy for every decision.
//
// PIPELINING (RFC 2920) falls out of the design: all complete commands in the
// input are answered in order, and the owner writes the replies in one go.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/command.hpp"
#include "agents/smtp/data_framing.hpp"
#include "agents/smtp/line_reader.hpp"
#include "agents/smtp/message_intake.hpp"
#include "agents/smtp/receive_buffer.hpp"
#include "agents/smtp/reply_answers.hpp"
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
  bool wants_close() const { return phase_ == Phase::kClosing; }
  // STARTTLS was accepted: flush the 220, then run the TLS handshake, then
  // call tls_established(). Input arriving before that is discarded.
  bool awaiting_tls() const { return phase_ == Phase::kAwaitingTls; }
  // Whether the next bytes are read as command lines (not message text, a
  // BDAT chunk or a SASL response).
  bool reading_commands() const { return phase_ == Phase::kCommands || phase_ == Phase::kRefused; }
  // RFC 3207 4.2: the server forgets everything it learnt before TLS.
  void tls_established();
  // Whether the next bytes are message text (DATA or a BDAT chunk): what
  // earns time under a minimum data rate.
  bool reading_message() const { return phase_ == Phase::kData || phase_ == Phase::kChunk; }
  // The message's writer makes it durable together with other sessions'
  // (MessageWriter::commits_later): the reply to its final dot waits, and
  // nothing more is read (pipelined input is kept), until the owner calls
  // start_commit() and, on its own thread, hands the outcome to
  // commit_finished().
  bool awaiting_commit() const { return phase_ == Phase::kCommitting && !commit_started_; }
  // `done` may be called from any thread: the owner must bring the reply back
  // to the session's thread before calling commit_finished() with it.
  void start_commit(std::function<void(Reply)> done);
  // Sends the reply (one per recipient over LMTP), ends the transaction and
  // reads what the client sent meanwhile. Ignored if the session closed first.
  void commit_finished(Reply reply);
  // The owner's idle timer fired (RFC 5321 4.5.3.2.7): 421 and close.
  void timed_out();
  // The owner ends the session now with `reply`, a 421 (RFC 5321 3.8): for
  // instance to free a slot of a full server. A message not yet answered is
  // never committed (nothing is read any more), so nothing accepted is lost;
  // one whose group commit has begun may still be stored, and the client,
  // not told, sends it again: a duplicate, never a loss (RFC 5321 6.1).
  void close_with(Reply reply);

  const SessionState& state() const { return state_; }
  // Lets policies and the trace tie what they record to the connection.
  void set_connection_id(std::uint64_t id) { state_.connection_id = id; }
  const ServerSettings& settings() const { return settings_; }

 private:
  // Where the session is: this phase and the transaction (if one is open)
  // are its whole state. The transitions, each made in the one function named:
  //
  //   start()            greeting refused with 554 -> kRefused (only QUIT; RFC 5321 3.1)
  //   handle_data()      kCommands -> kData after 354 (RFC 5321 4.1.1.4)
  //   finish_data()      kData -> kCommands at the final dot, or -> kCommitting
  //   (answer_message)     when the writer commits in a group
  //   commit_finished()  kCommitting -> kCommands once the group commit answered
  //   handle_bdat()      kCommands or kRefused -> kChunk, also for a refused BDAT,
  //   (refuse in           whose chunk must still be read (RFC 3030 2)
  //    handle_line())
  //   finish_chunk()     kChunk -> the phase it came from, or -> kCommitting
  //                      after BDAT LAST when the writer commits in a group
  //   handle_auth()      kCommands -> kAuthExchange after 334 (RFC 4954 4)
  //   handle_auth_response(), handle_line()  kAuthExchange -> kCommands on any
  //                      reply but 334 (errors included)
  //   handle_starttls()  kCommands -> kAwaitingTls after 220 (RFC 3207 4)
  //   tls_established()  kAwaitingTls -> kCommands, everything forgotten (RFC 3207 4.2)
  //   mark_closing()     any -> kClosing after QUIT's 221 or any 421 (RFC 5321 3.8); final
  enum class Phase { kCommands, kRefused, kData, kChunk, kCommitting, kAuthExchange, kAwaitingTls, kClosing };

  // A mail transaction, from MAIL to its end (RFC 5321 3.3).
  struct Transaction {
    Envelope envelope;
    bool rcpt_attempted = false;  // a RCPT came, accepted or not (554 vs 503 at DATA)
    bool bdat_used = false;       // BDAT has begun: no more RCPT or DATA (RFC 3030 2)
    // The message text so far: opened at DATA's 354 or the first accepted
    // BDAT chunk, handed to the policy at the end of data.
    std::optional<MessageIntake> intake;
  };
  // A BDAT chunk being read (or skipped, when its command was refused).
  struct Chunk {
    std::uint64_t remaining = 0;
    bool last = false;
    std::optional<Reply> error;  // the reply for a refused chunk, sent once it is read
    Phase resume = Phase::kCommands;
  };
  // A SASL exchange in progress (RFC 4954 4).
  struct AuthExchange {
    std::string mechanism;                  // "PLAIN" or "LOGIN"
    std::optional<std::string> login_user;  // LOGIN: the user name, once sent
  };

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
  // Opens the transaction's intake, asking the policy whether it streams.
  MessageIntake& open_intake();
  // A NUL in message text is refused unless settings_.accept_nul_in_text.
  bool refuses_nul(const MessageIntake& intake) const;
  static Reply nul_refused();
  void finish_data();
  // The reply to the message text: one, or (LMTP) one per recipient; the
  // refusal if the engine refused the text itself. False when the reply
  // waits for a group commit (kCommitting; the transaction stays open).
  bool answer_message(MessageIntake& intake, const std::optional<Reply>& refusal);
  void send_to_each_recipient(const Reply& reply);
  // The message's reply waits for its group commit (answer_message, finish_chunk).
  void begin_committing();
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
  std::optional<Transaction> transaction_;  // has a MAIL been accepted
  Chunk chunk_;                             // in kChunk
  AuthExchange auth_;                       // in kAuthExchange
  std::optional<DataReader> data_;          // in kData
  // Bytes kept from earlier input (a line or chunk not complete yet).
  ReceiveBuffer in_;
  // What process() reads, at pos_: the caller's bytes themselves when
  // nothing was kept (no copy, as Beast's parsers do), else in_'s.
  std::string_view input_;
  std::size_t pos_ = 0;
  std::string out_;
  CommandLineReader reader_;
  int errors_ = 0;
  bool commit_started_ = false;  // in kCommitting: start_commit() was called
  // What the next reply answers, for the observer (reply_answers.hpp).
  std::string_view answering_ = reply_answers::kNothing;
};

}  // namespace smtplab::smtp
