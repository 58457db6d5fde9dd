#include "agents/smtp/client_session.hpp"

#include "agents/smtp/reply_reason.hpp"

#include <algorithm>

#include "base/absl_string_view.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/smtp/data_framing.hpp"
#include "agents/smtp/sasl.hpp"

namespace smtplab::smtp {

namespace {
const Reply* pointer_to(const std::optional<Reply>& reply) { return reply ? &*reply : nullptr; }
}  // namespace

const Reply* TransactionResult::deciding_reply() const {
  if (final_reply) return &*final_reply;
  if (mail_reply && !mail_reply->is_positive()) return &*mail_reply;
  // No recipient accepted: the mildest refusal decides (a 4xx means retry,
  // only all-5xx means bounce); a refused DATA after that is a consequence.
  const Reply* mildest = nullptr;
  bool any_accepted = false;
  for (const auto& r : rcpt_replies) {
    if (r && r->is_positive()) any_accepted = true;
    if (r && !r->is_positive() && (mildest == nullptr || r->klass() < mildest->klass())) mildest = &*r;
  }
  if (!any_accepted && mildest != nullptr) return mildest;
  return pointer_to(data_reply);
}

const Reply* TransactionResult::recipient_reply(std::size_t i) const {
  if (i < delivery_replies.size() && delivery_replies[i]) return &*delivery_replies[i];
  // A refused MAIL decides for every recipient: the RCPTs pipelined after it
  // get "503 need MAIL" (RFC 2920 3.1), a consequence, and taking that 5xx
  // would turn a 4xx MAIL refusal (retry later) into a bounce.
  if (mail_reply && !mail_reply->is_positive()) return &*mail_reply;
  if (i < rcpt_replies.size() && rcpt_replies[i] && !rcpt_replies[i]->is_positive()) return &*rcpt_replies[i];
  if (delivery_replies.empty() && recipient_accepted(i)) return pointer_to(final_reply);
  return deciding_reply();
}

ClientSession::ClientSession(ClientSettings settings, SessionObserver* observer)
    : settings_(std::move(settings)), observer_(observer) {
  tls_active_ = settings_.tls_active_from_start;
  expect(Waiting::kGreeting);
}

void ClientSession::emit(SessionEventKind kind, std::string_view text, std::size_t octets, int code) {
  if (observer_ != nullptr) observer_->on_event(SessionEvent{kind, text, octets, code});
}

std::size_t ClientSession::enqueue(OutgoingMessage message) {
  messages_.push_back(std::move(message));
  results_.emplace_back();
  results_.back().rcpt_replies.resize(messages_.back().recipients.size());
  if (done_) {
    results_.back().done = true;
    results_.back().error = failure_.empty() ? "session already ended" : failure_;
  } else {
    pump();
  }
  return results_.size() - 1;
}

void ClientSession::finish() {
  finish_requested_ = true;
  pump();
}

std::string ClientSession::take_output() {
  std::string out;
  out.swap(out_);
  return out;
}

void ClientSession::send_line(std::string_view line) {
  emit(SessionEventKind::kCommandSent, line);
  absl::StrAppend(&out_, av(line), "\r\n");
}

void ClientSession::send_command(const Command& command) {
  std::string wire = format_command(command);
  emit(SessionEventKind::kCommandSent, std::string_view(wire).substr(0, wire.size() - 2));
  out_ += wire;
}

ClientSession::Waiting ClientSession::waiting() const {
  if (done_) return Waiting::kDone;
  if (pending_.empty()) return Waiting::kIdle;
  return pending_.front().expect;
}

void ClientSession::receive(std::string_view bytes) {
  if (done_) return;
  parser_.feed(bytes);
  while (!done_) {
    auto next = parser_.next();
    if (!next) return;
    if (!next->ok()) {
      const std::string why = absl::StrCat("malformed reply from server: ", next->status().message());
      emit(SessionEventKind::kProtocolError, why);
      fail_all(nullptr, why);
      done_ = true;
      return;
    }
    Reply reply = *std::move(*next);
    if (observer_ != nullptr) {
      reply_wire_.clear();
      reply.format_to(reply_wire_);
      std::string_view rest(reply_wire_);
      while (!rest.empty()) {
        const auto eol = rest.find("\r\n");
        emit(SessionEventKind::kReplyReceived, rest.substr(0, eol), 0, reply.code);
        rest.remove_prefix(eol + 2);
      }
    }
    on_reply(std::move(reply));
  }
}

void ClientSession::fail_all(const Reply* reply, std::string_view why) {
  if (failure_.empty()) failure_ = std::string(why);
  // A positive reply can never be a transaction's failure: the server said
  // something out of place (a second greeting, 250 to a greeting...).
  std::optional<Reply> deciding;
  if (reply != nullptr) {
    deciding = reply->is_positive()
                   ? make_reply(451, "4.5.0", absl::StrCat("unexpected reply: ", reply->code, " ", reply->text()))
                   : *reply;
  }
  auto fail = [&](TransactionResult& r) {
    if (r.done) return;
    r.done = true;
    r.error = std::string(why);
    if (deciding && !r.final_reply) r.final_reply = *deciding;
  };
  if (current_) fail(results_[*current_]);
  for (std::size_t i = next_message_; i < results_.size(); ++i) fail(results_[i]);
  next_message_ = results_.size();
  current_.reset();
}

void ClientSession::on_reply(Reply reply) {
  if (pending_.empty()) {
    const std::string why = absl::StrCat("unexpected reply from server: ", reply.code, " ", reply.text());
    emit(SessionEventKind::kProtocolError, why);
    fail_all(nullptr, why);
    done_ = true;
    return;
  }
  const Pending p = pending_.front();
  pending_.pop_front();

  if (reply.code == 421 && p.expect != Waiting::kQuit) {
    // RFC 5321 3.8: the server is closing; everything pending defers.
    give_up(&reply, absl::StrCat("server closing: ", reply.code, " ", reply.text()));
    done_ = true;
    return;
  }

  // One handler per reply the session waits for.
  switch (p.expect) {
    case Waiting::kGreeting: return on_greeting(reply);
    case Waiting::kEhlo: return on_ehlo(reply);
    case Waiting::kHelo: return on_helo(reply);
    case Waiting::kStarttls: return on_starttls(reply);
    case Waiting::kAuth: return on_auth(reply);
    case Waiting::kMail: return on_mail(std::move(reply));
    case Waiting::kRcpt: return on_rcpt(std::move(reply), p.index);
    case Waiting::kDataInit: return on_data_init(std::move(reply));
    case Waiting::kDataEnd: return on_final_reply(std::move(reply), /*bdat=*/false, p.index);
    case Waiting::kBdat: return on_final_reply(std::move(reply), /*bdat=*/true, p.index);
    case Waiting::kDataEndIgnored:
      // The empty message after a pipelined DATA nobody should have accepted.
      finish_transaction();
      return pump();
    case Waiting::kRset: return pump();
    case Waiting::kQuit:
      done_ = true;
      return;
    case Waiting::kIdle:
    case Waiting::kDone:
      return;  // never pending: they name the absence of an expected reply
  }
}

// 220, or a refusal (RFC 5321 3.1, 4.3.1).
void ClientSession::on_greeting(const Reply& reply) {
  if (reply.code == 220) {
    send_hello();
  } else {
    // RFC 5321 3.1: after a 554 greeting the client sends QUIT.
    give_up(&reply, absl::StrCat("greeting refused: ", reply.code, " ", reply.text()));
  }
}

void ClientSession::set_extensions(std::map<std::string, std::string, std::less<>> extensions) {
  extensions_ = std::move(extensions);
  static constexpr std::pair<Extension, std::string_view> kKeywords[] = {
      {Extension::kDsn, "DSN"},           {Extension::kAuth, "AUTH"},         {Extension::kSmtputf8, "SMTPUTF8"},
      {Extension::kBinaryMime, "BINARYMIME"}, {Extension::kChunking, "CHUNKING"}, {Extension::k8BitMime, "8BITMIME"},
      {Extension::kSize, "SIZE"},         {Extension::kPipelining, "PIPELINING"}, {Extension::kStarttls, "STARTTLS"}};
  offered_.reset();
  for (const auto& [extension, keyword] : kKeywords) {
    if (extensions_.find(keyword) != extensions_.end()) offered_.set(static_cast<std::size_t>(extension));
  }
}

// EHLO's 250 lists the extensions; an old server gets HELO (RFC 5321 3.2, 4.1.1.1).
void ClientSession::on_ehlo(const Reply& reply) {
  if (reply.code == 250) {
    std::map<std::string, std::string, std::less<>> extensions;
    for (std::size_t i = 1; i < reply.lines.size(); ++i) {
      std::string_view line = reply.lines[i];
      const auto cut = line.find_first_of(" =");
      std::string keyword = absl::AsciiStrToUpper(av(line.substr(0, cut)));
      extensions[keyword] = cut == std::string_view::npos ? "" : std::string(line.substr(cut + 1));
    }
    set_extensions(std::move(extensions));
    after_hello();
  } else if (!settings_.lmtp && (reply.code == 500 || reply.code == 502 || reply.code == 504 || reply.code == 550)) {
    // RFC 5321 3.2: an old server; fall back to HELO without extensions.
    set_extensions({});
    send_command(make_helo(settings_.helo_domain));
    expect(Waiting::kHelo);
  } else {
    give_up(&reply, absl::StrCat(settings_.lmtp ? "LHLO" : "EHLO", " refused: ", reply.code, " ", reply.text()));
  }
}

// HELO: no extensions (RFC 5321 4.1.1.1).
void ClientSession::on_helo(const Reply& reply) {
  if (reply.code == 250) {
    after_hello();
  } else {
    give_up(&reply, absl::StrCat("HELO refused: ", reply.code, " ", reply.text()));
  }
}

// 220 starts the handshake; anything else is a refusal (RFC 3207 4).
void ClientSession::on_starttls(const Reply& reply) {
  if (reply.code == 220) {
    awaiting_tls_ = true;
    emit(SessionEventKind::kTlsRequested, "STARTTLS");
  } else if (settings_.starttls == ClientTlsMode::kRequired) {
    give_up(&reply, absl::StrCat("TLS required but STARTTLS failed: ", reply.code, " ", reply.text()));
  } else {
    starttls_declined_ = true;
    after_hello();
  }
}

// 334 asks for the next piece, 235 is success (RFC 4954 4, 6).
void ClientSession::on_auth(const Reply& reply) {
  if (reply.code == 334 && login_step_ >= 2) {
    send_line("*");  // nothing more to say: cancel (RFC 4954 4)
    expect(Waiting::kAuth);
  } else if (reply.code == 334) {
    // LOGIN asks for the user, then the password; PLAIN sent it all at once.
    const std::string_view secret = login_step_ == 0 ? settings_.auth->user : settings_.auth->password;
    ++login_step_;
    send_line(base64_encode(secret));
    expect(Waiting::kAuth);
  } else if (reply.code == 235) {
    authenticated_ = true;
    after_hello();
  } else {
    give_up(&reply, absl::StrCat("authentication failed: ", reply.code, " ", reply.text()));
  }
}

// The reply to MAIL (RFC 5321 4.1.1.2).
void ClientSession::on_mail(Reply reply) {
  TransactionResult& r = results_[*current_];
  r.mail_reply = std::move(reply);
  if (pipelined_) return;  // the RCPT and DATA replies are on their way
  if (!r.mail_reply->is_positive()) {
    finish_transaction();
    pump();  // the next message, or QUIT
    return;
  }
  send_command(make_rcpt(messages_[*current_].recipients[0].path, rcpt_params(0)));
  expect(Waiting::kRcpt, 0);
}

// The reply to the RCPT of recipient `index` (RFC 5321 4.1.1.3).
void ClientSession::on_rcpt(Reply reply, std::size_t index) {
  TransactionResult& r = results_[*current_];
  r.rcpt_replies[index] = std::move(reply);
  if (pipelined_) return;
  const auto& recipients = messages_[*current_].recipients;
  if (index + 1 < recipients.size()) {
    send_command(make_rcpt(recipients[index + 1].path, rcpt_params(index + 1)));
    expect(Waiting::kRcpt, index + 1);
  } else if (any_recipient_accepted()) {
    send_message_text();
  } else {
    send_command(make_simple(Verb::kRset));
    expect(Waiting::kRset);
    finish_transaction();
  }
}

// 354 asks for the text (RFC 5321 4.1.1.4); with PIPELINING it may come
// though no recipient was accepted (RFC 2920 3.1).
void ClientSession::on_data_init(Reply reply) {
  TransactionResult& r = results_[*current_];
  r.data_reply = std::move(reply);
  if (r.data_reply->code == 354) {
    if (r.mail_reply && r.mail_reply->is_positive() && any_recipient_accepted()) {
      const std::string& content = messages_[*current_].content;
      if (observer_ != nullptr) {
        observer_->on_event(SessionEvent{SessionEventKind::kMessageSent, content, content.size(), 0,
                                         /*dot_stuffed=*/true});
      }
      // Stuffed straight into the output: no temporary copy of the text.
      append_dot_stuffed(out_, content);
      if (settings_.lmtp) {
        // RFC 2033 4.2: a reply for each recipient the server accepted.
        r.delivery_replies.resize(r.rcpt_replies.size());
        for (std::size_t i = 0; i < r.rcpt_replies.size(); ++i) {
          if (r.rcpt_replies[i] && r.rcpt_replies[i]->is_positive()) expect(Waiting::kDataEnd, i);
        }
      } else {
        expect(Waiting::kDataEnd);
      }
    } else {
      // RFC 2920 3.1: pipelined DATA was accepted though no recipient was;
      // send an empty message and disregard the reply.
      send_line(".");
      expect(Waiting::kDataEndIgnored);
    }
    return;
  }
  const bool in_transaction = r.mail_reply && r.mail_reply->is_positive();
  finish_transaction();
  if (in_transaction) {
    send_command(make_simple(Verb::kRset));
    expect(Waiting::kRset);
  }
  pump();
}

// The reply to the final dot, or to BDAT LAST: the server's answer for the
// whole message (RFC 5321 4.1.1.4, RFC 3030 2).
void ClientSession::on_final_reply(Reply reply, bool bdat, std::size_t recipient) {
  TransactionResult& r = results_[*current_];
  if (settings_.lmtp && !bdat) {
    r.delivery_replies[recipient] = std::move(reply);
    if (!pending_.empty() && pending_.front().expect == Waiting::kDataEnd) return;  // more recipients to hear
    // The transaction's reply: the first acceptance, else the mildest refusal.
    std::optional<Reply> first_acceptance, mildest_refusal;
    for (const auto& d : r.delivery_replies) {
      if (!d) continue;
      if (d->is_positive()) {
        if (!first_acceptance) first_acceptance = d;
      } else if (!mildest_refusal || d->klass() < mildest_refusal->klass()) {
        mildest_refusal = d;
      }
    }
    r.final_reply = first_acceptance ? first_acceptance : mildest_refusal;
    finish_transaction();
    pump();
    return;
  }
  const bool mail_ok = r.mail_reply && r.mail_reply->is_positive();
  const bool positive = reply.is_positive();
  if (bdat && (mail_ok && any_recipient_accepted())) r.final_reply = reply;
  if (bdat) {
    r.data_reply = std::move(reply);
  } else {
    r.final_reply = std::move(reply);
  }
  finish_transaction();
  if (!positive && mail_ok && bdat) {
    // RFC 3030 2: after a failed chunk the client resets the transaction.
    send_command(make_simple(Verb::kRset));
    expect(Waiting::kRset);
  }
  pump();
}

void ClientSession::give_up(const Reply* reply, std::string_view why) {
  fail_all(reply, why);
  send_command(make_simple(Verb::kQuit));
  quit_sent_ = true;
  expect(Waiting::kQuit);
}

void ClientSession::after_hello() {
  if (!tls_active_ && settings_.starttls != ClientTlsMode::kNone && !starttls_declined_) {
    if (offers(Extension::kStarttls)) {
      send_command(make_simple(Verb::kStarttls));
      expect(Waiting::kStarttls);
      return;
    }
    if (settings_.starttls == ClientTlsMode::kRequired) {
      const Reply reply = make_reply(454, "4.7.0", "TLS required by the client, but the server does not offer STARTTLS",
                                     reply_reason::kClientTlsPolicy);
      give_up(&reply, reply.text());
      return;
    }
  }
  if (settings_.auth && !authenticated_) {
    start_auth();
    return;
  }
  ready_ = true;
  pump();
}

void ClientSession::start_auth() {
  const auto it = extensions_.find("AUTH");
  std::vector<std::string> mechanisms;
  if (it != extensions_.end()) mechanisms = absl::StrSplit(absl::AsciiStrToUpper(it->second), ' ', absl::SkipEmpty());
  auto has = [&](std::string_view m) { return std::find(mechanisms.begin(), mechanisms.end(), m) != mechanisms.end(); };
  login_step_ = 0;
  if (has("PLAIN")) {
    send_command(make_auth("PLAIN", encode_plain("", settings_.auth->user, settings_.auth->password)));
    login_step_ = 2;
    expect(Waiting::kAuth);
  } else if (has("LOGIN")) {
    send_command(make_auth("LOGIN", std::nullopt));
    expect(Waiting::kAuth);
  } else {
    // RFC 4954 4 / RFC 6409 4.1: without AUTH the submission server refuses;
    // never fall back to unauthenticated mail when credentials were given.
    const Reply reply = make_reply(530, "5.7.0", "Authentication needed, but the server offers no PLAIN or LOGIN");
    give_up(&reply, reply.text());
  }
}

bool ClientSession::any_recipient_accepted() const {
  for (const auto& r : results_[*current_].rcpt_replies) {
    if (r && r->is_positive()) return true;
  }
  return false;
}

void ClientSession::pump() {
  // Without PIPELINING a command waits for the previous reply; a pending RSET
  // or QUIT calls pump() again when its reply arrives.
  if (!ready_ || done_ || current_ || awaiting_tls_ || !pending_.empty()) return;
  if (next_message_ < messages_.size()) {
    start_transaction();
  } else if (finish_requested_ && !quit_sent_) {
    send_command(make_simple(Verb::kQuit));
    quit_sent_ = true;
    expect(Waiting::kQuit);
  }
}

void ClientSession::start_transaction() {
  current_ = next_message_++;
  const OutgoingMessage& m = messages_[*current_];
  if (m.recipients.empty()) {
    finish_transaction("no recipients");
    pump();
    return;
  }
  // Parameters only for extensions this server offers (RFC 5321 4.1.1.11,
  // RFC 3461 4, RFC 4954 5): a relay must not pass on what the next hop
  // never advertised.
  MailParameters params = m.params;
  if (!offers(Extension::kDsn)) {
    params.ret.reset();
    params.envid.reset();
  }
  if (!offers(Extension::kAuth)) params.auth.reset();
  if (!offers(Extension::kSmtputf8)) params.smtputf8 = false;
  if (params.body == BodyType::kBinaryMime && !(offers(Extension::kBinaryMime) && offers(Extension::kChunking))) {
    params.body.reset();
  }
  if (params.body == BodyType::k8BitMime && !offers(Extension::k8BitMime)) params.body.reset();
  params.size.reset();
  if (settings_.declare_size && offers(Extension::kSize)) params.size = m.content.size();
  // RFC 6152 3: 8-bit text is announced with BODY=8BITMIME where offered.
  if (!params.body && offers(Extension::k8BitMime) && has_non_ascii(m.content)) params.body = BodyType::k8BitMime;
  pipelined_ = settings_.pipelining == PipeliningMode::kAuto && offers(Extension::kPipelining);
  send_command(make_mail(m.reverse_path, params));
  expect(Waiting::kMail);
  if (!pipelined_) return;
  for (std::size_t i = 0; i < m.recipients.size(); ++i) {
    send_command(make_rcpt(m.recipients[i].path, rcpt_params(i)));
    expect(Waiting::kRcpt, i);
  }
  send_message_text();
}

RcptParameters ClientSession::rcpt_params(std::size_t i) const {
  RcptParameters params = messages_[*current_].recipients[i].params;
  if (!offers(Extension::kDsn)) params = RcptParameters{};  // NOTIFY and ORCPT need DSN (RFC 3461 4)
  return params;
}

void ClientSession::send_message_text() {
  const OutgoingMessage& m = messages_[*current_];
  if (settings_.use_bdat && !settings_.lmtp && offers(Extension::kChunking)) {
    // One chunk holds the whole message; BDAT needs no dot-stuffing (RFC 3030 2).
    send_command(make_bdat(m.content.size(), true));
    emit(SessionEventKind::kMessageSent, m.content, m.content.size());
    out_ += m.content;
    expect(Waiting::kBdat);
    return;
  }
  // With PIPELINING, DATA is the last command of the group (RFC 2920 3.1).
  send_command(make_simple(Verb::kData));
  expect(Waiting::kDataInit);
}

void ClientSession::finish_transaction(std::string error) {
  if (!current_) return;
  TransactionResult& r = results_[*current_];
  r.done = true;
  if (!error.empty()) r.error = std::move(error);
  // The text is sent: a long session should not keep every message it carried.
  std::string().swap(messages_[*current_].content);
  current_.reset();
  pipelined_ = false;
}

void ClientSession::tls_established() {
  awaiting_tls_ = false;
  tls_active_ = true;
  // RFC 3207 4.2: everything learnt before TLS is void; say EHLO again.
  set_extensions({});
  send_hello();
}

void ClientSession::send_hello() {
  send_command(settings_.lmtp ? make_lhlo(settings_.helo_domain) : make_ehlo(settings_.helo_domain));
  expect(Waiting::kEhlo);
}

void ClientSession::tls_rejected(std::string_view why) {
  awaiting_tls_ = false;
  tls_active_ = true;
  // RFC 3463 X.7.5: cryptographic failure; temporary, so the queue retries
  // (the certificate may be fixed) until the queue lifetime ends.
  const Reply reply =
      make_reply(454, "4.7.5", absl::StrCat("TLS required, but ", av(why)), reply_reason::kClientTlsPolicy);
  give_up(&reply, reply.text());
}

void ClientSession::connection_closed(std::string_view why) {
  if (done_) return;
  // The final dot (or last chunk) went out, whatever else is still pending
  // before its reply in a pipelined group.
  const bool dot_sent = std::any_of(pending_.begin(), pending_.end(), [](const Pending& p) {
    return p.expect == Waiting::kDataEnd || p.expect == Waiting::kBdat;
  });
  if (dot_sent && current_) results_[*current_].maybe_delivered = true;
  fail_all(nullptr, absl::StrCat("connection closed: ", av(why)));
  pending_.clear();
  done_ = true;
}

}  // namespace smtplab::smtp
