#include "agents/smtp/server_session.hpp"

#include <algorithm>

#include "base/absl_string_view.hpp"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "agents/smtp/reply_reason.hpp"
#include "agents/smtp/sasl.hpp"

namespace smtplab::smtp {
namespace {

// "250 2.1.0 Sender <a@b> OK": the text built in place, moved into the reply.
Reply path_ok_reply(int code, std::string_view enhanced, std::string_view what, const Path& path) {
  Reply reply{code, std::string(enhanced), {}};
  std::string& text = reply.lines.emplace_back(what);
  path.append_to(text);
  text += " OK";
  return reply;
}

// How far past the size limit a refused BDAT chunk is still read and thrown
// away, so the session can go on; beyond it the server closes.
constexpr std::uint64_t kMaxDiscardedChunkOctets = 16 * 1024 * 1024;

Reply bad_sequence(std::string_view why) { return make_reply(503, "5.5.1", why); }
Reply not_implemented(std::string_view what) {
  return make_reply(502, "5.5.1", absl::StrCat(av(what), " not implemented"));
}

// Keeps an echoed client string short and printable in a reply.
std::string printable(std::string_view s) {
  return absl::CHexEscape(av(s.substr(0, 40)));
}

}  // namespace

ServerSession::ServerSession(ServerPolicy& policy, ServerSettings settings, std::string peer_address,
                             SessionObserver* observer)
    : policy_(policy),
      settings_(std::move(settings)),
      observer_(observer),
      reader_(std::max(settings_.max_command_line_octets, settings_.max_auth_line_octets),
              settings_.bare_line_ending) {
  state_.peer_address = std::move(peer_address);
}

void ServerSession::emit(SessionEventKind kind, std::string_view text, std::size_t octets, int code) {
  if (observer_ != nullptr) observer_->on_event(SessionEvent{kind, text, octets, code});
}

void ServerSession::send(Reply reply) {
  if (!settings_.offer_enhanced_status_codes) reply.enhanced.clear();
  const std::size_t start = out_.size();
  reply.format_to(out_);
  if (observer_ != nullptr) {
    std::string_view written(out_.data() + start, out_.size() - start);
    while (!written.empty()) {
      const auto eol = written.find("\r\n");
      observer_->on_event(SessionEvent{.kind = SessionEventKind::kReplySent,
                                       .text = written.substr(0, eol),
                                       .code = reply.code,
                                       .reason = reply.reason,
                                       .answers = answering_});
      written.remove_prefix(eol + 2);
    }
  }
  if (reply.code == 421) {  // RFC 5321 3.8: the server closes after 421
    mark_closing();
  }
}

void ServerSession::mark_closing() {
  if (phase_ == Phase::kClosing) return;
  phase_ = Phase::kClosing;
  emit(SessionEventKind::kClosing, {});
}

void ServerSession::send_error(Reply reply) {
  send(std::move(reply));
  if (phase_ != Phase::kClosing && ++errors_ >= settings_.max_errors) {
    send(make_reply(421, "4.7.0", absl::StrCat(settings_.hostname, " Error: too many errors")));
  }
}

std::string ServerSession::take_output() {
  std::string out;
  out.swap(out_);
  return out;
}

void ServerSession::start() {
  state_.tls_active = settings_.implicit_tls;
  answering_ = reply_answers::kGreeting;
  if (auto refusal = policy_.on_connect(state_)) {
    // RFC 5321 3.1: a 554 greeting; the server then waits for QUIT and answers
    // 503 to anything else. A 421 closes at once.
    refusal->enhanced.clear();
    const bool refuse_and_wait = refusal->code == 554;
    send(*std::move(refusal));
    if (refuse_and_wait) {
      phase_ = Phase::kRefused;
    } else {
      mark_closing();
    }
    return;
  }
  send(Reply{220, "", {absl::StrCat(settings_.hostname, " ", settings_.greeting_text)}});
}

void ServerSession::receive(std::string_view bytes) {
  if (phase_ == Phase::kClosing) return;
  if (phase_ == Phase::kAwaitingTls) {
    // Bytes before the handshake are plaintext injected after STARTTLS.
    emit(SessionEventKind::kInputDiscarded, "input after STARTTLS before the TLS handshake", bytes.size());
    return;
  }
  parse(bytes);
}

void ServerSession::parse(std::string_view fresh) {
  const bool in_place = in_.empty();
  if (!in_place) in_.append(fresh);
  input_ = in_place ? fresh : in_.data();
  pos_ = 0;
  process();
  if (in_place) {
    in_.append(input_.substr(pos_));  // copies only a line or chunk not complete yet
  } else {
    in_.consume(pos_);
  }
  input_ = {};
}

void ServerSession::process() {
  while (true) {
    const std::string_view available = input_.substr(pos_);
    switch (phase_) {
      case Phase::kClosing:
      case Phase::kAwaitingTls:
        return;  // nothing more is read: the connection ends, or TLS starts
      case Phase::kCommitting:
        return;  // kept until the group commit answers the message
      case Phase::kData:
        pos_ += data_->feed(available);
        if (transaction_->intake->streaming()) {
          // Passed on as it arrives, so only this read's text is held here.
          transaction_->intake->add(data_->text());
          data_->clear_text();
        }
        if (!data_->complete()) return;
        finish_data();
        break;
      case Phase::kChunk: {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.remaining, available.size()));
        if (!chunk_.error) transaction_->intake->add(available.substr(0, take));
        pos_ += take;
        chunk_.remaining -= take;
        if (chunk_.remaining > 0) return;
        finish_chunk();
        break;
      }
      case Phase::kCommands:
      case Phase::kRefused:
      case Phase::kAuthExchange: {
        auto line = reader_.next(input_, pos_);
        if (!line) return;
        handle_line(*line);
        break;
      }
    }
  }
}

void ServerSession::handle_line(const CommandLine& line) {
  answering_ = phase_ == Phase::kAuthExchange
                   ? std::string_view(reply_answers::kAuthResponse)
                   : verb_name(verb_from_word(line.text.substr(0, line.text.find(' '))));
  // Any reply but 334 ends a SASL exchange (RFC 4954 4), errors included.
  auto refuse = [&](Reply reply) {
    if (phase_ == Phase::kAuthExchange) phase_ = Phase::kCommands;
    // A BDAT line we refuse is still followed by its chunk (RFC 3030 2): skip
    // it, or its bytes would run as commands.
    if (phase_ == Phase::kCommands || phase_ == Phase::kRefused) {
      CommandParse bdat = parse_command(line.text);
      if (bdat.ok() && bdat.command.verb == Verb::kBdat) {
        chunk_ = Chunk{bdat.command.chunk_size, bdat.command.last_chunk, std::move(reply), phase_};
        phase_ = Phase::kChunk;
        if (chunk_.remaining == 0) finish_chunk();
        return;
      }
    }
    send_error(std::move(reply));
  };
  if (line.too_long) {
    emit(SessionEventKind::kProtocolError, "command line too long");
    if (phase_ == Phase::kAuthExchange) phase_ = Phase::kCommands;
    send_error(make_reply(500, "5.5.2", "Line too long (RFC 5321 4.5.3.1.4)"));
    return;
  }
  if (observer_ != nullptr) {
    // Replies still waiting in out_ were not yet written when this line was
    // read: it came in the same write as the command before it.
    observer_->on_event(SessionEvent{
        .kind = SessionEventKind::kCommandReceived,
        .text = line.text,
        // Said so where it is known: the password crosses this link in plaintext.
        .reason = answering_ == verb_name(Verb::kAuth) && !state_.tls_active ? std::string_view(reply_reason::kInClear)
                                                                               : std::string_view(),
        .pipelined = !out_.empty()});
  }
  if ((line.bare_lf || line.bare_cr) && settings_.bare_line_ending == BareLineEnding::kReject) {
    refuse(make_reply(500, "5.5.2", "Bare CR or LF in command line; lines end with CRLF (RFC 5321 2.3.8)"));
    return;
  }
  if (line.has_nul) {
    refuse(make_reply(500, "5.5.2", "NUL character in command line"));
    return;
  }
  if (phase_ == Phase::kAuthExchange) {
    handle_auth_response(line.text);
    return;
  }
  CommandSyntax syntax;
  syntax.allow_utf8 = settings_.offer_smtputf8 && state_.esmtp;
  const Verb verb = verb_from_word(line.text.substr(0, line.text.find(' ')));
  if (verb == Verb::kRcpt) syntax.allow_utf8 = transaction_ && transaction_->envelope.mail_params.smtputf8;
  if (verb != Verb::kAuth && line.text.size() + 2 > settings_.max_command_line_octets) {
    send_error(make_reply(500, "5.5.2", "Line too long (RFC 5321 4.5.3.1.4)"));
    return;
  }
  if (phase_ == Phase::kRefused && verb != Verb::kQuit) {
    refuse(bad_sequence("Service refused; only QUIT is allowed (RFC 5321 3.1)"));
    return;
  }
  CommandParse parse = parse_command(line.text, syntax);
  if (!parse.ok()) {
    send_error(Reply{parse.error->code, parse.error->enhanced, {parse.error->message}});
    return;
  }
  handle_command(parse.command);
}

void ServerSession::handle_command(const Command& command) {
  switch (command.verb) {
    case Verb::kEhlo:
    case Verb::kHelo:
      if (settings_.lmtp) {
        send_error(make_reply(500, "5.5.1", "This is an LMTP server: say LHLO (RFC 2033 4.1)"));
        return;
      }
      handle_ehlo(command);
      return;
    case Verb::kLhlo:
      if (!settings_.lmtp) {
        // LMTP is not for port 25 (RFC 2033 5): an SMTP server does not know it.
        send_error(make_reply(500, "5.5.1", "Command unrecognized: \"LHLO\" (this is SMTP, not LMTP)"));
        return;
      }
      handle_ehlo(command);
      return;
    case Verb::kMail:
      handle_mail(command);
      return;
    case Verb::kRcpt:
      handle_rcpt(command);
      return;
    case Verb::kData:
      handle_data();
      return;
    case Verb::kBdat:
      handle_bdat(command);
      return;
    case Verb::kAuth:
      handle_auth(command);
      return;
    case Verb::kStarttls:
      handle_starttls();
      return;
    case Verb::kRset:
      policy_.on_reset(state_);
      reset_transaction();
      send(make_reply(250, "2.0.0", "Ok"));
      return;
    case Verb::kNoop:
      send(make_reply(250, "2.0.0", "Ok"));
      return;
    case Verb::kQuit:
      send(make_reply(221, "2.0.0", absl::StrCat(settings_.hostname, " closing connection")));
      mark_closing();
      return;
    case Verb::kVrfy:
      if (!settings_.offer_vrfy) {
        send_error(not_implemented("VRFY"));
        return;
      }
      if (auto r = policy_.on_vrfy(state_, command)) {
        send(*std::move(r));
      } else {
        // RFC 5321 3.5.3: 252 when the server will not confirm an address.
        send(make_reply(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"));
      }
      return;
    case Verb::kExpn:
      // RFC 5321 3.5.2 lets a server refuse to expand lists (as most do).
      send_error(not_implemented("EXPN"));
      return;
    case Verb::kHelp:
      send(settings_.lmtp ? Reply{214, "2.0.0",
                                {"Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
                                 "See RFC 2033 and RFC 5321 for what each one does"}}
                        : Reply{214, "2.0.0",
                                {"Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
                                 "See RFC 5321 for what each one does"}});
      return;
    case Verb::kObsolete:
      send_error(not_implemented(command.verb_text));
      return;
    case Verb::kUnknown:
      send_error(make_reply(500, "5.5.1", absl::StrCat("Command unrecognized: \"", printable(command.verb_text), "\"")));
      return;
  }
}

void ServerSession::handle_ehlo(const Command& command) {
  SessionState candidate = state_;
  candidate.helo_domain = command.domain;
  candidate.esmtp = command.verb != Verb::kHelo;
  candidate.lmtp = command.verb == Verb::kLhlo;
  if (auto r = policy_.on_helo(candidate)) {
    if (!r->is_positive()) {
      send_error(*std::move(r));
      return;
    }
  }
  // RFC 5321 4.1.4: EHLO/HELO mid-session resets like RSET.
  if (transaction_) policy_.on_reset(state_);
  reset_transaction();
  state_ = std::move(candidate);
  if (!state_.esmtp) {
    send(Reply{250, "", {settings_.hostname}});
    return;
  }
  Reply reply{250, "", {absl::StrCat(settings_.hostname, " greets ", command.domain)}};
  if (settings_.offer_pipelining) reply.lines.push_back("PIPELINING");
  reply.lines.push_back(absl::StrCat("SIZE ", settings_.max_message_octets));
  if (settings_.offer_8bitmime) reply.lines.push_back("8BITMIME");
  if (settings_.offer_smtputf8) reply.lines.push_back("SMTPUTF8");
  const bool chunking = settings_.offer_chunking && !settings_.lmtp;
  if (chunking) reply.lines.push_back("CHUNKING");
  if (settings_.offer_binarymime && chunking) reply.lines.push_back("BINARYMIME");
  if (settings_.offer_dsn) reply.lines.push_back("DSN");
  if (settings_.offer_enhanced_status_codes) reply.lines.push_back("ENHANCEDSTATUSCODES");
  if (settings_.offer_starttls && !state_.tls_active) {
    reply.lines.push_back("STARTTLS");
  }
  if (settings_.offer_auth && (state_.tls_active || !settings_.auth_requires_tls)) {
    reply.lines.push_back("AUTH PLAIN LOGIN");
  }
  reply.lines.push_back("HELP");
  send(std::move(reply));
}

std::optional<Reply> ServerSession::check_extensions(const Command& command) const {
  const auto unsupported = [](std::string_view what) {
    return make_reply(555, "5.5.4", absl::StrCat(av(what), " parameter not supported"));
  };
  const MailParameters& m = command.mail;
  if (command.verb == Verb::kMail) {
    if (m.body == BodyType::k8BitMime && !settings_.offer_8bitmime) return unsupported("BODY=8BITMIME");
    if (m.body == BodyType::kBinaryMime && !settings_.offer_binarymime) return unsupported("BODY=BINARYMIME");
    if (m.smtputf8 && !settings_.offer_smtputf8) return unsupported("SMTPUTF8");
    if ((m.ret || m.envid) && !settings_.offer_dsn) return unsupported("RET/ENVID");
    if (m.auth && !settings_.offer_auth) return unsupported("AUTH");
  } else if (!settings_.offer_dsn && (!command.rcpt.notify.empty() || command.rcpt.orcpt)) {
    return unsupported("NOTIFY/ORCPT");
  }
  return std::nullopt;
}

void ServerSession::handle_mail(const Command& command) {
  if (state_.helo_domain.empty()) {
    send_error(bad_sequence(settings_.lmtp ? "Send LHLO first (RFC 2033 4.1)" : "Send EHLO or HELO first (RFC 5321 4.1.4)"));
    return;
  }
  if (transaction_) {
    send_error(bad_sequence("Nested MAIL command (RFC 5321 4.1.4)"));
    return;
  }
  if (auto r = check_extensions(command)) {
    send_error(*std::move(r));
    return;
  }
  if (command.path.mailbox.has_non_ascii() && !command.mail.smtputf8) {
    send_error(make_reply(553, "5.6.7", "Non-ASCII address needs SMTPUTF8 (RFC 6531 3.5)"));
    return;
  }
  if (command.mail.size && *command.mail.size > settings_.max_message_octets) {
    // RFC 1870 6: refuse a declared size over the fixed limit at MAIL.
    send(make_reply(552, "5.3.4", "Message size exceeds fixed maximum message size"));
    return;
  }
  if (auto r = policy_.on_mail(state_, command)) {
    const bool accepted = r->is_positive();
    send(*std::move(r));
    if (!accepted) return;
  } else {
    send(path_ok_reply(250, "2.1.0", "Sender ", command.path));
  }
  transaction_ = Transaction{};
  transaction_->envelope.reverse_path = command.path;
  transaction_->envelope.mail_params = command.mail;
}

void ServerSession::handle_rcpt(const Command& command) {
  if (!transaction_) {
    send_error(bad_sequence("Need MAIL command first (RFC 5321 4.1.4)"));
    return;
  }
  Envelope& envelope = transaction_->envelope;
  if (transaction_->bdat_used) {
    send_error(bad_sequence("RCPT after BDAT (RFC 3030 2)"));
    return;
  }
  if (auto r = check_extensions(command)) {
    send_error(*std::move(r));
    return;
  }
  transaction_->rcpt_attempted = true;
  if (envelope.recipients.size() >= settings_.max_recipients) {
    send(make_reply(452, "4.5.3", "Too many recipients (RFC 5321 4.5.3.1.10)"));
    return;
  }
  if (auto r = policy_.on_rcpt(state_, envelope, command)) {
    const bool accepted = r->is_positive();
    send(*std::move(r));
    if (!accepted) return;
  } else {
    send(path_ok_reply(250, "2.1.5", "Recipient ", command.path));
  }
  envelope.recipients.push_back(Recipient{command.path, command.rcpt});
}

void ServerSession::handle_data() {
  if (!transaction_) {
    send_error(bad_sequence("Need MAIL command first (RFC 5321 4.1.4)"));
    return;
  }
  if (transaction_->bdat_used) {
    send_error(bad_sequence("DATA after BDAT in one transaction (RFC 3030 2)"));
    return;
  }
  const Envelope& envelope = transaction_->envelope;
  if (envelope.recipients.empty()) {
    // RFC 2920 3.1: with no valid recipient, DATA fails with 503 or 554;
    // LMTP says 503 (RFC 2033 4.2).
    send_error(!transaction_->rcpt_attempted ? bad_sequence("Need RCPT command first (RFC 5321 4.1.4)")
               : settings_.lmtp ? make_reply(503, "5.5.1", "No valid recipients", reply_reason::kNoValidRecipients)
                                : make_reply(554, "5.5.1", "No valid recipients", reply_reason::kNoValidRecipients));
    return;
  }
  if (envelope.mail_params.body == BodyType::kBinaryMime) {
    send_error(bad_sequence("BODY=BINARYMIME needs BDAT (RFC 3030 3)"));
    return;
  }
  send(Reply{354, "", {"End data with <CR><LF>.<CR><LF>"}});
  data_.emplace(DataLimits{settings_.max_message_octets, settings_.max_text_line_octets,
                           settings_.bare_line_ending});
  // RFC 1870: the client's SIZE= is its estimate of the message.
  data_->expect_octets(envelope.mail_params.size.value_or(4096));
  open_intake();
  phase_ = Phase::kData;
}

MessageIntake& ServerSession::open_intake() {
  return transaction_->intake.emplace(policy_.open_message(state_, transaction_->envelope));
}

bool ServerSession::refuses_nul(const MessageIntake& intake) const {
  return !settings_.accept_nul_in_text && intake.saw_nul();
}

Reply ServerSession::nul_refused() {
  return make_reply(554, "5.6.0",
                    "Message refused: NUL in message text (RFC 5322 2.3); binary data needs BDAT with "
                    "BODY=BINARYMIME (RFC 3030)");
}

void ServerSession::finish_data() {
  phase_ = Phase::kCommands;
  answering_ = reply_answers::kEndOfData;
  const std::size_t octets = data_->octets();
  MessageIntake& intake = *transaction_->intake;
  if (!intake.streaming()) intake.add(data_->take_message());
  // Arrived with DATA: dot-stuffed on the wire, ended by "." (RFC 5321 4.5.2).
  // A streamed message was handed on already: the event has its size only.
  if (observer_ != nullptr) {
    observer_->on_event(
        SessionEvent{SessionEventKind::kMessageReceived, intake.whole(), octets, 0, /*dot_stuffed=*/true});
  }
  const bool bare = data_->saw_bare_cr_or_lf();
  const bool too_long = data_->line_too_long();
  const bool too_big = data_->size_exceeded();
  data_.reset();
  std::optional<Reply> refusal;
  if (bare && settings_.bare_line_ending == BareLineEnding::kReject) {
    emit(SessionEventKind::kProtocolError, "bare CR or LF in message text");
    refusal = make_reply(554, "5.6.0", "Message refused: bare CR or LF in text; lines end with CRLF (RFC 5321 2.3.8)");
  } else if (too_big) {
    refusal = make_reply(552, "5.3.4", "Message size exceeds fixed maximum message size (RFC 1870)");
  } else if (too_long) {
    emit(SessionEventKind::kProtocolError, "text line too long");
    refusal = make_reply(554, "5.6.0", absl::StrCat("Message refused: a text line is longer than ",
                                                    settings_.max_text_line_octets, " octets (RFC 5321 4.5.3.1.6)"));
  } else if (refuses_nul(intake)) {
    emit(SessionEventKind::kProtocolError, "NUL in message text");
    refusal = nul_refused();
  }
  if (answer_message(intake, refusal)) reset_transaction();  // an intake not delivered throws its text away
}

bool ServerSession::answer_message(MessageIntake& intake, const std::optional<Reply>& refusal) {
  // RFC 2033 4.2: over LMTP one reply for each recipient RCPT accepted, in
  // order; a refusal of the whole text is given to each of them.
  if (state_.lmtp) answering_ = reply_answers::kEndOfDataForRecipient;
  if (!refusal && intake.commits_later()) {
    begin_committing();
    return false;
  }
  if (!state_.lmtp) {
    send(refusal ? *refusal : intake.deliver(policy_, state_, transaction_->envelope));
    return true;
  }
  if (refusal) {
    send_to_each_recipient(*refusal);
    return true;
  }
  const std::size_t recipients = transaction_->envelope.recipients.size();
  std::vector<Reply> replies = intake.deliver_each(policy_, state_, transaction_->envelope);
  // A policy that answered for the wrong number of recipients still gets
  // the protocol right: one reply each, a missing one a temporary failure.
  replies.resize(recipients, make_reply(451, "4.3.0", "No answer for this recipient; try again later"));
  for (Reply& reply : replies) send(std::move(reply));
  return true;
}

void ServerSession::send_to_each_recipient(const Reply& reply) {
  for (std::size_t i = 0; i < transaction_->envelope.recipients.size(); ++i) send(reply);
}

void ServerSession::begin_committing() {
  phase_ = Phase::kCommitting;
  commit_started_ = false;
}

void ServerSession::start_commit(std::function<void(Reply)> done) {
  if (!awaiting_commit()) return;
  commit_started_ = true;
  transaction_->intake->commit_later(std::move(done));
}

void ServerSession::commit_finished(Reply reply) {
  if (phase_ != Phase::kCommitting) return;  // a 421 ended the session meanwhile
  phase_ = Phase::kCommands;
  // answering_ is still what finish_data() or finish_chunk() set: nothing
  // was read while the commit ran.
  if (state_.lmtp) {
    send_to_each_recipient(reply);
  } else {
    send(std::move(reply));
  }
  reset_transaction();
  parse({});  // what the client pipelined behind the message
}

void ServerSession::handle_bdat(const Command& command) {
  // The chunk follows the command whatever we answer, so we always read it
  // (RFC 3030 2) and keep the reply until it is in.
  // Over LMTP BDAT is never offered (RFC 2033 4.1 lists no CHUNKING here).
  const bool bdat_offered = settings_.offer_chunking && !settings_.lmtp;
  if (command.chunk_size > settings_.max_message_octets + kMaxDiscardedChunkOctets) {
    // RFC 3030 wants a refused chunk read anyway, but not 2^64 octets of it:
    // refuse and hang up (RFC 5321 3.8 lets a server close when it must).
    // The refusal says why BDAT is refused here: the size, or no BDAT at all.
    send(bdat_offered ? make_reply(552, "5.3.4", "Chunk larger than the message size limit") : not_implemented("BDAT"));
    send(make_reply(421, "4.3.4", absl::StrCat(settings_.hostname, " closing: the chunk is too large to skip")));
    return;
  }
  chunk_ = Chunk{command.chunk_size, command.last_chunk, std::nullopt, phase_};
  if (!bdat_offered) {
    chunk_.error = not_implemented("BDAT");
  } else if (!transaction_) {
    chunk_.error = bad_sequence("Need MAIL command first (RFC 5321 4.1.4)");
  } else if (transaction_->envelope.recipients.empty()) {
    chunk_.error = transaction_->rcpt_attempted ? make_reply(554, "5.5.1", "No valid recipients", reply_reason::kNoValidRecipients)
                                  : bad_sequence("Need RCPT command first (RFC 5321 4.1.4)");
  } else if (command.chunk_size >
             settings_.max_message_octets - (transaction_->intake ? transaction_->intake->octets() : 0)) {
    // Written as a subtraction: chunk sizes go up to 2^64-1, and a sum could wrap.
    chunk_.error = make_reply(552, "5.3.4", "Message size exceeds fixed maximum message size (RFC 1870)");
  }
  if (transaction_) transaction_->bdat_used = true;
  if (!chunk_.error && !transaction_->intake) open_intake();
  phase_ = Phase::kChunk;
  if (chunk_.remaining == 0) finish_chunk();
}

void ServerSession::finish_chunk() {
  phase_ = chunk_.resume;
  if (chunk_.error) {
    // RFC 3030 2: after a failed chunk the transaction is void.
    send_error(*std::move(chunk_.error));
    if (transaction_) policy_.on_reset(state_);
    reset_transaction();
    return;
  }
  if (!chunk_.last) {
    send(make_reply(250, "2.0.0", absl::StrCat(transaction_->intake->octets(), " octets received")));
    return;
  }
  MessageIntake& intake = *transaction_->intake;
  answering_ = reply_answers::kLastChunk;
  emit(SessionEventKind::kMessageReceived, intake.whole(), intake.octets());
  if (transaction_->envelope.mail_params.body != BodyType::kBinaryMime && refuses_nul(intake)) {
    emit(SessionEventKind::kProtocolError, "NUL in message text");
    send(nul_refused());
  } else if (intake.commits_later()) {
    begin_committing();  // BDAT is never offered over LMTP: one reply
    return;
  } else {
    send(intake.deliver(policy_, state_, transaction_->envelope));
  }
  reset_transaction();
}

void ServerSession::handle_starttls() {
  if (!settings_.offer_starttls) {
    send_error(not_implemented("STARTTLS"));
    return;
  }
  if (state_.tls_active) {
    send_error(bad_sequence("TLS already active (RFC 3207 4.2)"));
    return;
  }
  if (settings_.starttls_unavailable) {
    // RFC 3207 4: 454 is the temporary refusal of STARTTLS.
    send(make_reply(454, "4.7.0", "TLS not available due to local problem"));
    return;
  }
  send(make_reply(220, "2.0.0", "Ready to start TLS"));
  // CVE-2011-0411: whatever the client pipelined behind STARTTLS arrived in
  // plaintext and must not be executed inside the TLS session.
  if (pos_ < input_.size()) {
    emit(SessionEventKind::kInputDiscarded, "plaintext pipelined after STARTTLS", input_.size() - pos_);
    pos_ = input_.size();
  }
  phase_ = Phase::kAwaitingTls;
  emit(SessionEventKind::kTlsRequested, "STARTTLS");
}

void ServerSession::tls_established() {
  reset_transaction();
  SessionState fresh;
  fresh.peer_address = state_.peer_address;
  fresh.connection_id = state_.connection_id;
  fresh.tls_active = true;
  state_ = std::move(fresh);
  // A session that timed out while the handshake ran stays closing.
  if (phase_ != Phase::kClosing) phase_ = Phase::kCommands;
}

void ServerSession::timed_out() {
  close_with(make_reply(421, "4.4.2", absl::StrCat(settings_.hostname, " Error: timeout exceeded")));
}

void ServerSession::close_with(Reply reply) {
  if (phase_ == Phase::kClosing) return;
  answering_ = reply_answers::kNothing;
  send(std::move(reply));
  mark_closing();
}

void ServerSession::handle_auth(const Command& command) {
  if (!settings_.offer_auth) {
    send_error(not_implemented("AUTH"));
  } else if (!state_.esmtp) {
    send_error(bad_sequence(settings_.lmtp ? "Send LHLO first" : "Send EHLO first"));
  } else if (!state_.authenticated_user.empty()) {
    send_error(bad_sequence("Already authenticated (RFC 4954 4)"));
  } else if (transaction_) {
    send_error(bad_sequence("AUTH not allowed during a mail transaction (RFC 4954 4)"));
  } else if (settings_.auth_requires_tls && !state_.tls_active) {
    send_error(make_reply(538, "5.7.11", "Encryption required for requested authentication mechanism (RFC 4954 6)"));
  } else if (command.mechanism != "PLAIN" && command.mechanism != "LOGIN") {
    send_error(make_reply(504, "5.5.4", "Unrecognized authentication mechanism"));
  } else {
    auth_ = AuthExchange{command.mechanism, std::nullopt};
    phase_ = Phase::kAuthExchange;
    if (!command.initial_response) {
      send(Reply{334, "", {std::string(auth_.mechanism == "PLAIN" ? "" : kLoginUserPrompt)}});
      return;
    }
    // RFC 4954 4: "=" is an empty initial response.
    handle_auth_response(*command.initial_response == "=" ? "" : *command.initial_response);
  }
}

void ServerSession::handle_auth_response(std::string_view line) {
  phase_ = Phase::kCommands;
  if (line == "*") {
    send_error(make_reply(501, "5.0.0", "Authentication cancelled (RFC 4954 4)"));
    return;
  }
  if (auth_.mechanism == "PLAIN") {
    auto creds = decode_plain(line);
    if (!creds.ok()) {
      send_error(make_reply(501, "5.5.2", absl::StrCat("Cannot decode response: ", creds.status().message())));
      return;
    }
    complete_auth(AuthAttempt{"PLAIN", creds->authorization_id, creds->user, creds->password});
    return;
  }
  auto decoded = base64_decode(line);
  if (!decoded.ok()) {
    send_error(make_reply(501, "5.5.2", absl::StrCat("Cannot decode response: ", decoded.status().message())));
    return;
  }
  if (!auth_.login_user) {
    auth_.login_user = *std::move(decoded);
    phase_ = Phase::kAuthExchange;
    send(Reply{334, "", {std::string(kLoginPasswordPrompt)}});
    return;
  }
  complete_auth(AuthAttempt{"LOGIN", "", *auth_.login_user, *std::move(decoded)});
}

void ServerSession::complete_auth(const AuthAttempt& attempt) {
  auto r = policy_.on_auth(state_, attempt);
  if (!r || r->is_positive()) {
    state_.authenticated_user = attempt.user;
    send(r ? *std::move(r) : make_reply(235, "2.7.0", "Authentication successful"));
    return;
  }
  send_error(*std::move(r));
}

void ServerSession::reset_transaction() { transaction_.reset(); }

}  // namespace smtplab::smtp
