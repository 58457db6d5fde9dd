#include "agents/session_tracer.hpp"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

void SessionTracer::record(sim::EventKind kind, std::string_view text, int code, std::string explain,
                           sim::TraceEvent::Details details) {
  if (!trace_.wants(kind)) return;
  sim::TraceEvent e;
  e.kind = kind;
  e.host = host_;
  e.agent = agent_;
  e.peer = peer_;
  e.connection = connection_;
  e.text = std::string(text);
  e.code = code;
  e.explain = std::move(explain);
  e.details = std::move(details);
  trace_.record(std::move(e));
}

namespace {

// The trace kind a session event is recorded as; nullopt for none.
std::optional<sim::EventKind> trace_kind_of(smtp::SessionEventKind kind) {
  using K = smtp::SessionEventKind;
  switch (kind) {
    case K::kCommandReceived:
    case K::kCommandSent: return sim::EventKind::kSmtpCommand;
    case K::kReplySent:
    case K::kReplyReceived: return sim::EventKind::kSmtpReply;
    case K::kMessageReceived:
    case K::kMessageSent: return sim::EventKind::kSmtpData;
    case K::kTlsRequested: return sim::EventKind::kSmtpStartTls;
    case K::kInputDiscarded: return sim::EventKind::kSmtpDiscarded;
    case K::kProtocolError: return sim::EventKind::kSmtpError;
    case K::kClosing: return std::nullopt;  // the network records the close itself
  }
  return std::nullopt;
}

}  // namespace

void SessionTracer::on_event(const smtp::SessionEvent& ev) {
  // At the message level no session event is kept: decide before building
  // its texts, as this runs for every line of every session.
  if (const std::optional<sim::EventKind> kind = trace_kind_of(ev.kind); !kind || !trace_.wants(*kind)) return;
  using K = smtp::SessionEventKind;
  switch (ev.kind) {
    case K::kCommandReceived:
    case K::kCommandSent: {
      const std::string verb = absl::AsciiStrToLower(av(ev.text.substr(0, ev.text.find(' '))));
      record(sim::EventKind::kSmtpCommand, ev.text, 0,
             ev.reason.empty() ? absl::StrCat("command.", verb) : absl::StrCat("command.", verb, ".", av(ev.reason)),
             ev.pipelined ? sim::TraceEvent::Details{{sim::detail_key::kPipelined, "yes"}} : sim::TraceEvent::Details{});
      break;
    }
    case K::kReplySent:
    case K::kReplyReceived:
      // "reply.451", refined where the decision was made: "reply.451.greylisted".
      record(sim::EventKind::kSmtpReply, ev.text, ev.code,
             ev.reason.empty() ? absl::StrCat("reply.", ev.code) : absl::StrCat("reply.", ev.code, ".", av(ev.reason)),
             ev.answers.empty() ? sim::TraceEvent::Details{}
                                : sim::TraceEvent::Details{{sim::detail_key::kAnswers, std::string(ev.answers)}});
      break;
    case K::kMessageReceived:
    case K::kMessageSent:
      record(sim::EventKind::kSmtpData, absl::StrCat("(message text, ", ev.octets, " octets)"), 0, name_of(sim::EventKind::kSmtpData));
      break;
    case K::kTlsRequested:
      record(sim::EventKind::kSmtpStartTls, "STARTTLS accepted; TLS handshake", 0, "tls.starttls");
      break;
    case K::kInputDiscarded:
      record(sim::EventKind::kSmtpDiscarded, absl::StrCat(av(ev.text), " (", ev.octets, " octets)"), 0, "smtp.starttls_injection");
      break;
    case K::kProtocolError:
      record(sim::EventKind::kSmtpError, ev.text, 0, "smtp.protocol_error");
      break;
    case K::kClosing:
      break;  // the network records the close itself
  }
}

}  // namespace smtplab::agents
