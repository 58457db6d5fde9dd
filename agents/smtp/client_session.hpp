// The client side of SMTP as a sans-I/O state machine: EHLO (falling back to
// HELO, RFC 5321 3.2), optional STARTTLS (RFC 3207) and AUTH (RFC 4954), then
// one mail transaction per queued message with per-recipient results, using
// PIPELINING (RFC 2920) and CHUNKING (RFC 3030) when the server offers them,
// and QUIT. The owner moves bytes and runs TLS; the session decides.
#pragma once

#include <bitset>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/command.hpp"
#include "agents/smtp/reply.hpp"
#include "agents/smtp/server_policy.hpp"
#include "agents/smtp/session_event.hpp"

namespace smtplab::smtp {

enum class PipeliningMode { kAuto, kOff };
enum class ClientTlsMode {
  kNone,           // never STARTTLS
  kOpportunistic,  // STARTTLS when offered, plaintext otherwise (what most MTAs do)
  kRequired,       // no TLS, no mail: every message defers (RFC 8461 enforce, RFC 7672)
};

struct ClientCredentials {
  std::string user;
  std::string password;
};

struct ClientSettings {
  std::string helo_domain = "localhost";
  PipeliningMode pipelining = PipeliningMode::kAuto;
  ClientTlsMode starttls = ClientTlsMode::kNone;
  bool tls_active_from_start = false;  // implicit TLS (RFC 8314): no STARTTLS
  std::optional<ClientCredentials> auth;
  bool use_bdat = false;      // send BDAT instead of DATA when CHUNKING is offered
  bool declare_size = true;   // MAIL ... SIZE=n when SIZE is offered (RFC 1870)
  // Speak LMTP (RFC 2033) to a mailbox server: LHLO (no HELO to fall back
  // on), and after the text one reply per accepted recipient (4.2). Never
  // BDAT: its per-recipient replies are left out, as the server's are.
  bool lmtp = false;
};

struct OutgoingMessage {
  Path reverse_path;
  std::vector<Recipient> recipients;
  MailParameters params;
  std::string content;  // RFC 5322 message with CRLF line ends, not dot-stuffed
};

struct TransactionResult {
  std::optional<Reply> mail_reply;
  std::vector<std::optional<Reply>> rcpt_replies;  // one per recipient, in order
  std::optional<Reply> data_reply;                 // 354, or the refusal of DATA/BDAT
  std::optional<Reply> final_reply;                // after the message text
  // LMTP (RFC 2033 4.2): the reply after the text for each recipient, in
  // order; empty over SMTP, nullopt for a recipient refused at RCPT or not
  // answered. final_reply is then the first acceptance, else the mildest
  // refusal.
  std::vector<std::optional<Reply>> delivery_replies;
  std::string error;  // why it ended without a final reply, if it did
  bool done = false;
  // The final dot went out but no reply came: the message may or may not have
  // been accepted, so a retry can duplicate it (RFC 1047).
  bool maybe_delivered = false;

  bool accepted() const { return final_reply && final_reply->is_positive(); }
  bool recipient_accepted(std::size_t i) const {
    if (!delivery_replies.empty()) {
      return i < delivery_replies.size() && delivery_replies[i] && delivery_replies[i]->is_positive();
    }
    return accepted() && i < rcpt_replies.size() && rcpt_replies[i] && rcpt_replies[i]->is_positive();
  }
  // The reply that settled recipient i: its own after the text (LMTP), its
  // RCPT refusal, the one after the text, or the transaction's deciding one;
  // nullptr when there is none. Points into this result.
  const Reply* recipient_reply(std::size_t i) const;
  // The reply that decided a failed transaction (for retry-or-bounce
  // decisions), or nullptr. Points into this result.
  const Reply* deciding_reply() const;
};

class ClientSession {
 public:
  // What the client waits for: the reply to one command (each has its
  // handler, on_greeting() to on_final_reply()), or nothing. Also how the
  // owner picks the timeout (RFC 5321 4.5.3.2).
  enum class Waiting {
    kGreeting, kEhlo, kHelo, kStarttls, kAuth, kMail, kRcpt, kDataInit,
    kDataEnd,         // the reply to the final dot
    kDataEndIgnored,  // the same after a pipelined DATA that should have failed (RFC 2920 3.1)
    kBdat,            // the reply to BDAT LAST
    kRset, kQuit,
    kIdle,  // nothing asked: waiting for a message to send
    kDone,  // the session is over
  };

  explicit ClientSession(ClientSettings settings, SessionObserver* observer = nullptr);

  // Queues a message; its result appears at the same index in results().
  std::size_t enqueue(OutgoingMessage message);
  // Send QUIT once every queued message is done.
  void finish();

  void receive(std::string_view bytes);
  std::string take_output();
  bool has_output() const { return !out_.empty(); }

  bool awaiting_tls() const { return awaiting_tls_; }
  void tls_established();
  // The handshake finished but the owner will not use it (required TLS and
  // the certificate did not verify): fail every message with a 4.7.5
  // temporary failure and QUIT inside TLS, before any AUTH or mail is sent.
  void tls_rejected(std::string_view why);
  // The connection ended (peer closed, reset, timeout): whatever is pending fails.
  void connection_closed(std::string_view why);

  bool done() const { return done_; }
  // A message enqueued now would be sent on this session: it has not ended,
  // has not said (or been asked to say) QUIT.
  bool open_for_mail() const { return !done_ && !quit_sent_ && !finish_requested_; }
  Waiting waiting() const;
  const std::string& failure() const { return failure_; }  // session-level error, if any
  const std::deque<TransactionResult>& results() const { return results_; }
  // EHLO keywords (upper case) with their parameters, e.g. {"SIZE", "10240000"}.
  const std::map<std::string, std::string, std::less<>>& extensions() const { return extensions_; }
  bool tls_active() const { return tls_active_; }

 private:
  struct Pending {
    Waiting expect;
    std::size_t index = 0;  // recipient index for kRcpt
  };

  // Dispatches a reply to the handler for what the session waits for. The
  // handlers that keep a reply in the transaction's result take it by value,
  // so the parser's reply moves there instead of being copied.
  void on_reply(Reply reply);
  void on_greeting(const Reply& reply);
  void on_ehlo(const Reply& reply);
  void on_helo(const Reply& reply);
  void on_starttls(const Reply& reply);
  void on_auth(const Reply& reply);
  void on_mail(Reply reply);
  void on_rcpt(Reply reply, std::size_t index);
  void on_data_init(Reply reply);
  void on_final_reply(Reply reply, bool bdat, std::size_t recipient);
  void send_hello();  // EHLO, or LHLO over LMTP
  void after_hello();
  void start_auth();
  void pump();
  void start_transaction();
  void send_message_text();
  void finish_transaction(std::string error = {});
  void fail_all(const Reply* reply, std::string_view why);
  void give_up(const Reply* reply, std::string_view why);  // fail everything, then QUIT
  void send_command(const Command& command);
  void send_line(std::string_view line_without_crlf);
  void expect(Waiting e, std::size_t index = 0) { pending_.push_back(Pending{e, index}); }
  // The extensions the client acts on, noted once per EHLO reply (set_extensions)
  // so that a transaction asks a bit, not the map, for each.
  enum class Extension : std::uint8_t {
    kDsn, kAuth, kSmtputf8, kBinaryMime, kChunking, k8BitMime, kSize, kPipelining, kStarttls, kCount
  };
  bool offers(Extension e) const { return offered_.test(static_cast<std::size_t>(e)); }
  // Replaces extensions_ and offered_ together (empty: none, as after HELO or TLS).
  void set_extensions(std::map<std::string, std::string, std::less<>> extensions);
  bool any_recipient_accepted() const;
  RcptParameters rcpt_params(std::size_t i) const;  // the ones this server can take
  void emit(SessionEventKind kind, std::string_view text, std::size_t octets = 0, int code = 0);

  ClientSettings settings_;
  SessionObserver* observer_;
  ReplyParser parser_;
  std::string out_;
  std::string reply_wire_;  // a received reply's wire form, for the observer; reused
  std::deque<Pending> pending_;
  std::map<std::string, std::string, std::less<>> extensions_;  // std::less<>: looked up without a copy
  std::bitset<static_cast<std::size_t>(Extension::kCount)> offered_;
  std::deque<OutgoingMessage> messages_;  // a deque: a long session never moves them
  std::deque<TransactionResult> results_;  // a deque too: growing never moves the earlier ones
  std::size_t next_message_ = 0;
  std::optional<std::size_t> current_;  // index of the transaction in progress
  bool pipelined_ = false;              // the current transaction was sent as one group
  bool ready_ = false;                  // hello, TLS and AUTH are behind us
  bool finish_requested_ = false;
  bool quit_sent_ = false;
  bool done_ = false;
  bool awaiting_tls_ = false;
  bool tls_active_ = false;
  bool starttls_declined_ = false;  // opportunistic TLS gave up: carry on in plaintext
  bool authenticated_ = false;
  int login_step_ = 0;
  std::string failure_;
};

}  // namespace smtplab::smtp
