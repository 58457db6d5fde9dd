// What a session tells its observer: every line that crosses the wire and the
// decisions around it. The simulator records these into the trace; the CLI
// prints them as a transcript. Views are valid only during the callback.
#pragma once

#include <cstddef>
#include <string_view>

namespace smtplab::smtp {

enum class SessionEventKind {
  kCommandReceived,   // server: a command line arrived (text without CRLF)
  kReplySent,         // server: a reply line went out
  kCommandSent,       // client: a command line went out
  kReplyReceived,     // client: a reply line arrived
  kMessageReceived,   // server: message text complete (text = the message, empty when the policy
                      // took it as it arrived; octets = its size)
  kMessageSent,       // client: message text sent (octets = size before stuffing)
  kTlsRequested,      // either side: STARTTLS accepted, handshake must start now
  kInputDiscarded,    // server: bytes pipelined behind STARTTLS were dropped (CVE-2011-0411)
  kProtocolError,     // a malformed reply, a line that broke the rules, a limit hit
  kClosing,           // the session is done and wants the connection closed
};

struct SessionEvent {
  SessionEventKind kind;
  std::string_view text;
  std::size_t octets = 0;
  int code = 0;  // reply code for reply events
  bool dot_stuffed = false;  // message events: sent with DATA (stuffed), not BDAT
  std::string_view reason;   // reply events: why it was given (Reply::reason), if said; an AUTH
                             // command: in_clear when sent without TLS (reply_reason.hpp)
  std::string_view answers;  // a server's reply events: what it answers (reply_answers.hpp)
  // kCommandReceived: the command came before the reply to the one before it
  // had gone out, in the same read: the client sent both in one write
  // without waiting (PIPELINING, RFC 2920 3.1).
  bool pipelined = false;
};

class SessionObserver {
 public:
  virtual ~SessionObserver() = default;
  virtual void on_event(const SessionEvent& event) = 0;
};

}  // namespace smtplab::smtp
