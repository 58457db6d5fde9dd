// A ServerPolicy for tests: records what it accepts, knows one user, and
// refuses recipients whose local part is "nobody" (550 5.1.1), "later"
// (450 4.2.1), and over LMTP "full" after the text (452 4.2.2).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agents/smtp/server_policy.hpp"

namespace smtplab::smtp::testing {

class RecordingPolicy : public ServerPolicy {
 public:
  struct Stored {
    Envelope envelope;
    std::string message;
    std::string authenticated_user;
  };
  std::vector<Stored> stored;
  int resets = 0;

  std::optional<Reply> on_auth(const SessionState&, const AuthAttempt& a) override {
    if (a.user == "alice" && a.password == "s3cret") return std::nullopt;
    return make_reply(535, "5.7.8", "Authentication credentials invalid");
  }
  std::optional<Reply> on_rcpt(const SessionState&, const Envelope&, const Command& c) override {
    if (c.path.mailbox.local_part == "nobody") return make_reply(550, "5.1.1", "No such user");
    if (c.path.mailbox.local_part == "later") return make_reply(450, "4.2.1", "Try later");
    return std::nullopt;
  }
  Reply on_message(const SessionState& s, const Envelope& e, std::string message) override {
    stored.push_back(Stored{e, std::move(message), s.authenticated_user});
    return make_reply(250, "2.0.0", "Ok: queued as " + std::to_string(stored.size()));
  }
  // LMTP: a recipient whose local part is "full" is refused after the text
  // (452 4.2.2, a mailbox over quota); the others have the message stored.
  std::vector<Reply> on_message_each(const SessionState& s, const Envelope& e, std::string message) override {
    std::vector<Reply> replies;
    Envelope taken = e;
    taken.recipients.clear();
    for (const Recipient& r : e.recipients) {
      if (r.path.mailbox.local_part != "full") taken.recipients.push_back(r);
    }
    if (!taken.recipients.empty()) stored.push_back(Stored{taken, std::move(message), s.authenticated_user});
    for (const Recipient& r : e.recipients) {
      replies.push_back(r.path.mailbox.local_part == "full"
                            ? make_reply(452, "4.2.2", r.path.to_string() + " Mailbox full")
                            : make_reply(250, "2.0.0", r.path.to_string() + " Ok: delivered as " +
                                                           std::to_string(stored.size())));
    }
    return replies;
  }
  void on_reset(const SessionState&) override { ++resets; }
};

}  // namespace smtplab::smtp::testing
