#include "agents/session_tracer.hpp"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

void SessionTracer::record(std::string kind, std::string_view text, int code, std::string explain) {
  if (!trace_.wants(kind)) return;
  sim::TraceEvent e;
  e.kind = std::move(kind);
  e.host = host_;
  e.agent = agent_;
  e.peer = peer_;
  e.connection = connection_;
  e.text = std::string(text);
  e.code = code;
  e.explain = std::move(explain);
  trace_.record(std::move(e));
}

void SessionTracer::on_event(const smtp::SessionEvent& ev) {
  using K = smtp::SessionEventKind;
  switch (ev.kind) {
    case K::kCommandReceived:
    case K::kCommandSent: {
      const std::string verb = absl::AsciiStrToLower(av(ev.text.substr(0, ev.text.find(' '))));
      record("smtp.command", ev.text, 0, absl::StrCat("command.", verb));
      break;
    }
    case K::kReplySent:
    case K::kReplyReceived:
      record("smtp.reply", ev.text, ev.code, absl::StrCat("reply.", ev.code));
      break;
    case K::kMessageReceived:
    case K::kMessageSent:
      record("smtp.data", absl::StrCat("(message text, ", ev.octets, " octets)"), 0, "smtp.data");
      break;
    case K::kTlsRequested:
      record("smtp.starttls", "STARTTLS accepted; TLS handshake", 0, "tls.starttls");
      break;
    case K::kInputDiscarded:
      record("smtp.discarded", absl::StrCat(av(ev.text), " (", ev.octets, " octets)"), 0, "smtp.starttls_injection");
      break;
    case K::kProtocolError:
      record("smtp.error", ev.text, 0, "smtp.protocol_error");
      break;
    case K::kClosing:
      break;  // the network records the close itself
  }
}

}  // namespace smtplab::agents
