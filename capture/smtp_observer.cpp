#include "capture/smtp_observer.hpp"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agents/smtp/reply_answers.hpp"
#include "agents/smtp/reply_reason.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::capture {
namespace {

namespace answers = smtp::reply_answers;
namespace finding_name = sim::capture_finding;

// Past this many octets without a line end, the text is not SMTP lines.
constexpr std::size_t kLongestLine = 64 * 1024;
constexpr char kAgent[] = "capture";

std::string verb_of(std::string_view line) {
  return absl::AsciiStrToUpper(av(line.substr(0, line.find(' '))));
}

// "BDAT 1024 LAST": the chunk's size, and whether it is the last (RFC 3030 2).
bool parse_bdat(std::string_view line, std::uint64_t& size, bool& last) {
  std::string_view rest = line.substr(line.find(' ') == std::string_view::npos ? line.size() : line.find(' ') + 1);
  const std::size_t space = rest.find(' ');
  const std::string_view number = rest.substr(0, space);
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), size);
  if (ec != std::errc() || end != number.data() + number.size() || number.empty()) return false;
  last = space != std::string_view::npos && absl::AsciiStrToUpper(av(rest.substr(space + 1))) == "LAST";
  return true;
}

bool is_reply_line(std::string_view line) {
  if (line.size() < 3) return false;
  for (int i = 0; i < 3; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
  }
  return line.size() == 3 || line[3] == ' ' || line[3] == '-';
}

}  // namespace

std::string_view agent_for_port(std::uint16_t port) {
  switch (port) {
    case 587:
    case 465: return "msa";
    case 24: return "mda";
    case 25:
    case 2525: return "mta";
    default: return kAgent;
  }
}

void SmtpObserver::record(absl::Time at, sim::EventKind kind, std::string text, int code, std::string explain,
                          sim::TraceEvent::Details details, bool from_client) {
  sim::TraceEvent e;
  e.time_us = absl::ToInt64Microseconds(at - c_.epoch);
  e.kind = kind;
  // As the server side records a session: the server is where it happens.
  const bool at_server = kind == sim::EventKind::kSmtpCommand || kind == sim::EventKind::kSmtpReply ||
                         kind == sim::EventKind::kSmtpData || kind == sim::EventKind::kSmtpStartTls || !from_client;
  e.host = at_server ? c_.server_host : c_.client_host;
  e.peer = at_server ? c_.client_host : c_.server_host;
  const bool link = kind == sim::EventKind::kConnOpen || kind == sim::EventKind::kConnClose ||
                    kind == sim::EventKind::kConnReset;
  e.agent = link ? "net" : kind == sim::EventKind::kCaptureFinding ? kAgent : server_agent_;
  e.connection = c_.id;
  e.text = std::move(text);
  e.code = code;
  e.explain = std::move(explain);
  e.details = std::move(details);
  out_.push_back(std::move(e));
}

void SmtpObserver::finding(absl::Time at, const char* what, std::string text, std::uint64_t octets, bool from_client) {
  sim::TraceEvent::Details details = {{sim::detail_key::kFinding, what}};
  if (octets != 0) details.emplace_back(sim::detail_key::kOctets, absl::StrCat(octets));
  record(at, sim::EventKind::kCaptureFinding, std::move(text), 0, absl::StrCat("capture.", what), std::move(details),
         from_client);
}

void SmtpObserver::opened(absl::Time at, std::string_view client_address, std::string_view server_address,
                          bool midstream) {
  record(at, sim::EventKind::kConnOpen, absl::StrCat(av(client_address), " -> ", av(server_address)), 0,
         sim::name_of(sim::EventKind::kConnOpen));
  if (midstream) {
    greeted_ = true;  // whatever came before the capture, the greeting is not in it
    finding(at, finding_name::kMidstream, "the capture begins in the middle of this connection");
  }
}

void SmtpObserver::client_bytes(absl::Time at, std::string_view bytes) {
  if (tls_channel_) {
    tls_bytes(at, true, bytes);
    return;
  }
  if (client_ == ClientPhase::kEncrypted) return;
  // A TLS record (a handshake, 0x16 0x03) as the very first thing: implicit
  // TLS (RFC 8314, port 465).
  if (!greeted_ && client_in_.empty() && bytes.size() >= 2 && bytes[0] == 0x16 && bytes[1] == 0x03) {
    begin_tls(at, true);
    if (tls_channel_) tls_bytes(at, true, bytes);
    return;
  }
  client_plaintext(at, bytes);
}

void SmtpObserver::client_plaintext(absl::Time at, std::string_view bytes) {
  client_in_.append(bytes);
  client_lines(at);
}

void SmtpObserver::begin_tls(absl::Time at, bool implicit) {
  tls_ = true;
  if (c_.keys == nullptr) {
    client_ = ClientPhase::kEncrypted;
    server_encrypted_ = true;
    finding(at, finding_name::kEncrypted,
            implicit ? "TLS from the first octet (implicit TLS)" : "the rest of this connection is TLS", 0,
            /*from_client=*/implicit);
    return;
  }
  tls_channel_ = std::make_unique<TlsDecryptor>(c_.keys);
  // The session starts over inside TLS (RFC 3207 4.2): EHLO again, and with
  // implicit TLS the greeting too (RFC 8314 3.3).
  client_ = ClientPhase::kCommands;
  waiting_.clear();
  held_.clear();
  awaiting_.clear();
  ehlo_done_ = pipelining_offered_ = false;
  if (implicit) greeted_ = false;
  // What each side sent after the switch is TLS already.
  std::string client_rest = std::move(client_in_), server_rest = std::move(server_in_);
  client_in_.clear();
  server_in_.clear();
  if (!client_rest.empty()) tls_bytes(at, true, client_rest);
  if (!server_rest.empty()) tls_bytes(at, false, server_rest);
}

void SmtpObserver::tls_bytes(absl::Time at, bool from_client, std::string_view records) {
  std::string plaintext;
  tls_channel_->feed(from_client, records, plaintext);
  using State = TlsDecryptor::State;
  const State state = tls_channel_->state();
  const bool failed = state == State::kNoSecrets || state == State::kUnsupported || state == State::kFailed;
  if (!tls_announced_ && (failed || tls_channel_->handshake_done())) {
    tls_announced_ = true;
    if (!failed) {
      record(at, sim::EventKind::kTlsEstablished,
             absl::StrCat("TLS established: ", tls_channel_->version(), ", ", tls_channel_->cipher(),
                          " (opened with the key log)"),
             0, sim::name_of(sim::EventKind::kTlsEstablished),
             {{sim::detail_key::kVersion, tls_channel_->version()}, {sim::detail_key::kCipher, tls_channel_->cipher()}},
             false);
    }
  }
  if (failed) {
    if (client_ != ClientPhase::kEncrypted) {
      client_ = ClientPhase::kEncrypted;
      server_encrypted_ = true;
      finding(at, finding_name::kEncrypted, absl::StrCat("the rest of this connection is TLS: ", tls_channel_->why()),
              0, from_client);
    }
    return;
  }
  if (plaintext.empty()) return;
  from_client ? client_plaintext(at, plaintext) : server_plaintext(at, plaintext);
}

void SmtpObserver::client_lines(absl::Time at) {
  while (!client_in_.empty()) {
    switch (client_) {
      case ClientPhase::kEncrypted:
        client_in_.clear();
        return;
      case ClientPhase::kAwaitingReply:
        return;  // until the server says what the next octets are
      case ClientPhase::kData:
        message_text(at);
        if (client_ == ClientPhase::kData) return;  // the end of data is not here yet
        break;
      case ClientPhase::kChunk: {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, client_in_.size()));
        client_in_.erase(0, take);
        chunk_left_ -= take;
        data_octets_ += take;
        if (chunk_left_ > 0) return;
        if (chunk_last_) {
          record(at, sim::EventKind::kSmtpData, absl::StrCat("(message text, ", data_octets_, " octets)"), 0,
                 sim::name_of(sim::EventKind::kSmtpData));
          data_octets_ = 0;
        }
        client_ = ClientPhase::kCommands;
        break;
      }
      case ClientPhase::kCommands:
      case ClientPhase::kSasl: {
        const std::size_t lf = client_in_.find('\n');
        if (lf == std::string::npos) {
          if (client_in_.size() > kLongestLine) {
            finding(at, finding_name::kNotSmtp, "the client sent a line longer than any SMTP command");
            client_ = ClientPhase::kEncrypted;
          }
          return;
        }
        std::string line = client_in_.substr(0, lf);
        client_in_.erase(0, lf + 1);
        if (!line.empty() && line.back() == '\r') {
          line.pop_back();
        } else if (!bare_noted_) {
          bare_noted_ = true;
          finding(at, finding_name::kBareLf, "this command line ends in a bare LF");
        }
        if (client_ == ClientPhase::kSasl) {
          record(at, sim::EventKind::kSmtpCommand, line, 0, absl::StrCat("command.", answers::kAuthResponse));
          waiting_.push_back({answers::kAuthResponse});
          awaiting_ = answers::kAuthResponse;
          client_ = ClientPhase::kAwaitingReply;
          break;
        }
        command(at, std::move(line), !waiting_.empty());
        break;
      }
    }
  }
}

void SmtpObserver::command(absl::Time at, std::string line, bool pipelined) {
  const std::string verb = verb_of(line);
  std::string explain = absl::StrCat("command.", absl::AsciiStrToLower(verb));
  if (verb == "AUTH" && !tls_) absl::StrAppend(&explain, ".", smtp::reply_reason::kInClear);
  record(at, sim::EventKind::kSmtpCommand, line, 0, std::move(explain),
         pipelined ? sim::TraceEvent::Details{{sim::detail_key::kPipelined, "yes"}} : sim::TraceEvent::Details{});
  if (pipelined) {
    held_.push_back(std::move(out_.back()));
    out_.pop_back();
  }
  if (pipelined && ehlo_done_ && !pipelining_offered_ && !unadvertised_noted_) {
    unadvertised_noted_ = true;
    finding(at, finding_name::kUnadvertisedPipelining,
            absl::StrCat(line, " was sent before the reply to the command before it"));
  }
  if (verb == "LHLO") {
    lmtp_ = true;
    server_agent_ = "mda";
  }
  if (verb == "MAIL" || verb == "RSET" || verb == "EHLO" || verb == "HELO" || verb == "LHLO") accepted_recipients_ = 0;
  waiting_.push_back({verb, pipelined});
  if (verb == "DATA" || verb == "STARTTLS" || verb == "AUTH") {
    awaiting_ = verb;
    client_ = ClientPhase::kAwaitingReply;
  } else if (verb == "BDAT") {
    std::uint64_t size = 0;
    bool last = false;
    if (parse_bdat(line, size, last)) {
      chunk_left_ = size;
      chunk_last_ = last;
      if (last) waiting_.back().answers = answers::kLastChunk;
      client_ = ClientPhase::kChunk;
    }
  }
}

void SmtpObserver::message_text(absl::Time at) {
  while (true) {
    const std::size_t lf = client_in_.find('\n');
    if (lf == std::string::npos) {
      // A line without an end yet; a runaway one is counted as it goes.
      if (client_in_.size() > kLongestLine) {
        data_octets_ += client_in_.size() - 4;
        client_in_.erase(0, client_in_.size() - 4);
      }
      return;
    }
    std::string_view raw(client_in_.data(), lf);
    const bool crlf = !raw.empty() && raw.back() == '\r';
    const std::string_view line = crlf ? raw.substr(0, raw.size() - 1) : raw;
    if (line == "." && crlf) {
      client_in_.erase(0, lf + 1);
      record(at, sim::EventKind::kSmtpData, absl::StrCat("(message text, ", data_octets_, " octets)"), 0,
             sim::name_of(sim::EventKind::kSmtpData));
      data_octets_ = 0;
      // Over LMTP the final dot gets one reply per accepted recipient (RFC 2033 4.2).
      if (lmtp_ && accepted_recipients_ > 0) {
        for (int i = 0; i < accepted_recipients_; ++i) waiting_.push_back({answers::kEndOfDataForRecipient});
      } else {
        waiting_.push_back({answers::kEndOfData});
      }
      client_ = ClientPhase::kCommands;
      return;
    }
    // "\n.\n", "\r\n.\n", "\r.\r", ".\r" alone...: ends of data that a lax
    // server would take (SMTP smuggling).
    const bool smuggling = (line == "." && !crlf) || line.find("\r.\r") != std::string_view::npos ||
                           (line.size() >= 2 && line.substr(0, 2) == ".\r") ||
                           (line.size() >= 2 && line.substr(line.size() - 2) == "\r.");
    if (smuggling && !smuggling_noted_) {
      smuggling_noted_ = true;
      finding(at, finding_name::kSmugglingEnd, "an end of data that is not <CRLF>.<CRLF> is in the message text");
    }
    if ((!crlf || line.find('\r') != std::string_view::npos) && !bare_noted_) {
      bare_noted_ = true;
      finding(at, finding_name::kBareLf, "the message text has a line that does not end in CRLF");
    }
    // Dot-stuffing undone: a line that starts with "." had one added (RFC 5321 4.5.2).
    data_octets_ += line.size() + 2 - (!line.empty() && line[0] == '.' ? 1 : 0);
    client_in_.erase(0, lf + 1);
  }
}

void SmtpObserver::server_bytes(absl::Time at, std::string_view bytes) {
  if (tls_channel_) {
    tls_bytes(at, false, bytes);
    return;
  }
  if (server_encrypted_) return;
  server_plaintext(at, bytes);
}

void SmtpObserver::server_plaintext(absl::Time at, std::string_view bytes) {
  server_in_.append(bytes);
  while (!server_encrypted_) {
    const std::size_t lf = server_in_.find('\n');
    if (lf == std::string::npos) {
      if (server_in_.size() > kLongestLine) {
        finding(at, finding_name::kNotSmtp, "the server sent a line longer than any SMTP reply", 0, false);
        server_encrypted_ = true;
      }
      return;
    }
    std::string line = server_in_.substr(0, lf);
    server_in_.erase(0, lf + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const bool was_tls = tls_channel_ != nullptr;
    reply_line(at, line);
    // STARTTLS's 220 switched the connection to TLS: begin_tls took the rest.
    if (!was_tls && tls_channel_) return;
  }
}

void SmtpObserver::reply_line(absl::Time at, std::string_view line) {
  if (!is_reply_line(line)) {
    finding(at, finding_name::kNotSmtp, absl::StrCat("not a reply: ", av(line.substr(0, 80))), 0, false);
    server_encrypted_ = true;  // nothing after it can be trusted
    return;
  }
  int code = 0;
  std::from_chars(line.data(), line.data() + 3, code);
  const std::string answered = !greeted_ ? std::string(answers::kGreeting)
                               : waiting_.empty() ? std::string(answers::kNothing)
                                                  : waiting_.front().answers;
  if (answered == "EHLO" || answered == "LHLO") {
    if (line.size() > 4 && verb_of(line.substr(4)) == "PIPELINING") pipelining_offered_ = true;
  }
  record(at, sim::EventKind::kSmtpReply, std::string(line), code, absl::StrCat("reply.", code),
         {{sim::detail_key::kAnswers, answered}}, false);
  if (line.size() > 3 && line[3] == '-') return;  // more lines of this reply follow
  reply_done(at, code);
}

void SmtpObserver::reply_done(absl::Time at, int code) {
  if (!greeted_) {
    greeted_ = true;
    return;
  }
  if (waiting_.empty()) return;  // said unasked (a 421 before closing)
  const std::string verb = waiting_.front().answers;
  waiting_.pop_front();
  release_held(at);
  if (verb == "EHLO" || verb == "LHLO") ehlo_done_ = true;
  if (verb == "RCPT" && code / 100 == 2) ++accepted_recipients_;
  if (client_ != ClientPhase::kAwaitingReply || verb != awaiting_) return;
  awaiting_.clear();
  client_ = ClientPhase::kCommands;
  if (verb == "DATA" && code == 354) {
    client_ = ClientPhase::kData;
    data_octets_ = 0;
  } else if (verb == "STARTTLS" && code == 220) {
    record(at, sim::EventKind::kSmtpStartTls, "STARTTLS accepted; TLS handshake", 0, "tls.starttls");
    begin_tls(at, false);
    return;
  } else if ((verb == "AUTH" || verb == answers::kAuthResponse) && code == 334) {
    client_ = ClientPhase::kSasl;
  }
  client_lines(at);
}

void SmtpObserver::release_held(absl::Time at) {
  if (waiting_.empty() || !waiting_.front().held || held_.empty()) return;
  waiting_.front().held = false;
  sim::TraceEvent e = std::move(held_.front());
  held_.pop_front();
  e.time_us = std::max(e.time_us, absl::ToInt64Microseconds(at - c_.epoch));
  out_.push_back(std::move(e));
}

void SmtpObserver::release_all_held() {
  for (auto& w : waiting_) w.held = false;
  while (!held_.empty()) {
    out_.push_back(std::move(held_.front()));
    held_.pop_front();
  }
}

void SmtpObserver::gap(absl::Time at, bool from_client, std::uint64_t missing) {
  finding(at, finding_name::kGap, absl::StrCat(missing, " octets ", from_client ? "from the client" : "from the server",
                                               " are missing from the capture"),
          missing, from_client);
  // What was cut cannot be finished: drop the partial line and read on.
  if (from_client) {
    if (client_ == ClientPhase::kCommands || client_ == ClientPhase::kSasl) client_in_.clear();
  } else {
    server_in_.clear();
  }
}

void SmtpObserver::closed(absl::Time at, bool by_client) {
  if (closed_) return;
  closed_ = true;
  release_all_held();  // never answered: in the order they came
  record(at, sim::EventKind::kConnClose, "connection closed", 0, sim::name_of(sim::EventKind::kConnClose), {},
         by_client);
}

void SmtpObserver::reset(absl::Time at) {
  if (closed_) return;
  closed_ = true;
  release_all_held();
  record(at, sim::EventKind::kConnReset, "connection reset", 0, sim::name_of(sim::EventKind::kConnReset));
}

}  // namespace smtplab::capture
