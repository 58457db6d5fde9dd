// Fuzz target: a server session fed arbitrary client bytes in arbitrary
// pieces, with every feature on, its policy taking the text whole or as it
// arrives, speaking SMTP or (one input in seven) LMTP. It must never crash, never buffer without bound, and every reply
// it writes must be a well-formed SMTP reply.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/reply.hpp"
#include "agents/smtp/server_session.hpp"

namespace {

// Takes the text as it arrives (ServerPolicy::open_message); the session
// must never pass on more than the size limit, nor commit twice.
class LimitedWriter : public smtplab::smtp::MessageWriter {
 public:
  void write(std::string_view text) override {
    written_ += text.size();
    if (written_ > 4096 || committed_) std::abort();
  }
  smtplab::smtp::Reply commit() override {
    if (committed_) std::abort();
    committed_ = true;
    return smtplab::smtp::make_reply(250, "2.0.0", "ok");
  }

 private:
  std::size_t written_ = 0;
  bool committed_ = false;
};

class AcceptAll : public smtplab::smtp::ServerPolicy {
 public:
  explicit AcceptAll(bool streaming) : streaming_(streaming) {}
  std::unique_ptr<smtplab::smtp::MessageWriter> open_message(const smtplab::smtp::SessionState&,
                                                             const smtplab::smtp::Envelope& e) override {
    if (e.recipients.empty()) std::abort();
    if (!streaming_) return nullptr;
    return std::make_unique<LimitedWriter>();
  }
  std::optional<smtplab::smtp::Reply> on_auth(const smtplab::smtp::SessionState&,
                                              const smtplab::smtp::AuthAttempt& a) override {
    if (a.user == "u") return std::nullopt;
    return smtplab::smtp::make_reply(535, "5.7.8", "no");
  }
  smtplab::smtp::Reply on_message(const smtplab::smtp::SessionState&, const smtplab::smtp::Envelope& e,
                                  std::string message) override {
    if (e.recipients.empty() || message.size() > 4096) std::abort();  // the session must enforce both
    return smtplab::smtp::make_reply(250, "2.0.0", "ok");
  }
  // LMTP (RFC 2033 4.2): the session must ask for exactly one reply per
  // accepted recipient; one refused, to exercise mixed outcomes.
  std::vector<smtplab::smtp::Reply> on_message_each(const smtplab::smtp::SessionState& state,
                                                    const smtplab::smtp::Envelope& e, std::string message) override {
    std::vector<smtplab::smtp::Reply> replies(e.recipients.size(), on_message(state, e, std::move(message)));
    replies.back() = smtplab::smtp::make_reply(452, "4.2.2", "mailbox full");
    return replies;
  }

 private:
  bool streaming_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::smtp;
  if (size == 0) return 0;
  ServerSettings settings;
  settings.offer_starttls = true;
  settings.offer_auth = true;
  settings.auth_requires_tls = false;
  settings.max_message_octets = 4096;
  settings.max_recipients = 5;
  settings.bare_line_ending = static_cast<BareLineEnding>(data[0] % 3);
  AcceptAll policy(/*streaming=*/(data[0] / 3) % 2 == 1);
  settings.lmtp = (data[0] / 6) % 7 == 6;
  ServerSession session(policy, settings, "fuzz");
  session.start();
  ReplyParser replies;
  replies.feed(session.take_output());
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::size_t i = 0;
  while (i < bytes.size() && !session.wants_close()) {
    const std::size_t piece = 1 + static_cast<unsigned char>(bytes[i]) % 64;
    session.receive(bytes.substr(i, piece));
    i += piece;
    if (session.awaiting_tls()) session.tls_established();
    replies.feed(session.take_output());
    while (auto r = replies.next()) {
      if (!r->ok()) std::abort();
    }
  }
  return 0;
}
