#include "agents/mua/mua.hpp"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace smtplab::agents {

namespace {

// The message as composed: its header block, and the body (up to 8 KiB) for
// the visualizer's inspector, at full trace level only.
// What the trace says of a submission: the envelope, how this client reaches
// its MSA (port, TLS, login), and at the full level the message as composed.
std::vector<std::pair<std::string, std::string>> submit_details(const Submission& s, const std::string& content,
                                                                const MuaSettings& settings, bool full) {
  std::vector<std::pair<std::string, std::string>> d = {
      {sim::detail_key::kFrom, s.from},
      {sim::detail_key::kTo, absl::StrJoin(s.to, ",")},
      {sim::detail_key::kPort, absl::StrCat(settings.msa_port)},
      // "implicit" (RFC 8314), or the STARTTLS level: none, may, encrypt, verify.
      {sim::detail_key::kPolicy, settings.implicit_tls ? kImplicitTlsPolicyName : std::string(tls_level_name(settings.tls.level))}};
  if (settings.credentials) d.emplace_back(sim::detail_key::kUser, settings.credentials->user);
  if (!full) return d;
  const std::size_t end = content.find("\r\n\r\n");
  d.emplace_back(sim::detail_key::kHeaders, content.substr(0, end == std::string::npos ? content.size() : end + 2));
  if (end != std::string::npos) d.emplace_back(sim::detail_key::kBody, content.substr(end + 4, 8192));
  return d;
}

}  // namespace

std::string Mua::submit(const Submission& s, std::function<void(const smtp::TransactionResult&)> done) {
  // Unique within the run; no clock in it, so a run in virtual time and the
  // same run on real sockets give the same bytes.
  const std::string message_id = absl::StrCat(
      next_id_++, settings_.message_id_tag.empty() ? "" : "." + settings_.message_id_tag, ".mua@", context_.host);
  smtp::OutgoingMessage out;
  auto from = smtp::parse_path("<" + s.from + ">", {.allow_utf8 = true, .allow_null = true});
  if (from.ok()) out.reverse_path = *from;
  for (const auto& t : s.to) {
    auto path = smtp::parse_path("<" + t + ">", {.allow_utf8 = true, .allow_postmaster = true});
    if (path.ok()) out.recipients.push_back({*path, {}});
  }
  out.content = compose_message({s.from, s.to, s.subject, s.body, context_.clock.wall_now(), message_id});

  auto trace = [this, message_id](sim::EventKind kind, std::string text, std::string explain,
                                  std::vector<std::pair<std::string, std::string>> details) {
    if (context_.trace == nullptr) return;
    sim::TraceEvent e;
    e.kind = kind;
    e.host = context_.host;
    e.agent = "mua";
    e.message = message_id;
    e.peer = settings_.msa_host;
    e.text = std::move(text);
    e.explain = explain.empty() ? std::string(name_of(kind)) : std::move(explain);
    e.details = std::move(details);
    context_.trace->record(std::move(e));
  };
  trace(sim::EventKind::kMessageSubmit, absl::StrCat("submitting \"", s.subject, "\" from <", s.from, "> to ",
                                       absl::StrJoin(s.to, ", "), " via ", settings_.msa_host),
        {},
        submit_details(s, out.content, settings_,
                       context_.trace != nullptr && context_.trace->level() == sim::TraceLevel::kFull));

  SmtpDestination to;
  to.key = absl::StrCat(settings_.msa_address, ":", settings_.msa_port);
  to.address = settings_.msa_address;
  to.port = settings_.msa_port;
  to.timeouts = settings_.timeouts;
  to.connect_timeout = absl::Seconds(30);
  to.client.helo_domain = context_.host;
  to.client.auth = settings_.credentials;
  to.client.pipelining = settings_.pipelining;
  const TlsLevel level = settings_.tls.context ? settings_.tls.level : TlsLevel::kNone;
  to.client.tls_active_from_start = settings_.implicit_tls && level != TlsLevel::kNone;
  to.client.starttls = to.client.tls_active_from_start ? smtp::ClientTlsMode::kNone : session_tls_mode(level);
  if (level != TlsLevel::kNone) {
    to.tls.context = settings_.tls.context;
    to.tls.server_name = settings_.msa_host;
    to.tls.clock = &context_.clock;
    to.tls.require_verified = requires_verification(level);
    to.tls.on_handshake = [trace, level, msa = settings_.msa_host](const tls::HandshakeReport& r) {
      sim::TraceEvent e;
      describe_client_handshake(r, msa, level, e);
      trace(e.kind, e.text, e.explain, e.details);
    };
  }
  auto on_done = [trace, to = s.to, done = std::move(done)](const SmtpOutcome& outcome) {
    const smtp::TransactionResult& r = outcome.result;
    std::vector<std::pair<std::string, std::string>> details;
    for (std::size_t i = 0; i < to.size(); ++i) {
      const auto& reply = i < r.rcpt_replies.size() ? r.rcpt_replies[i] : std::nullopt;
      details.emplace_back(to[i], r.recipient_accepted(i) ? "accepted"
                                  : reply ? absl::StrCat(reply->code, " ", reply->text())
                                          : "not attempted");
    }
    const auto deciding = r.deciding_reply();
    if (r.accepted()) {
      trace(sim::EventKind::kMessageSubmitted, "the MSA accepted the message", {}, details);
    } else {
      trace(sim::EventKind::kMessageRejected,
            absl::StrCat("submission failed: ",
                         deciding ? absl::StrCat(deciding->code, " ", deciding->text()) : r.error),
            {}, details);
    }
    if (done) done(r);
  };
  connections_.send(to, std::move(out), std::move(on_done));
  return message_id;
}

}  // namespace smtplab::agents
