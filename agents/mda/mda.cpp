#include "agents/mda/mda.hpp"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agents/message_headers.hpp"
#include "agents/received_header.hpp"
#include "agents/smtp_listener.hpp"

namespace smtplab::agents {

Mda::Mda(HostContext context, MdaSettings settings) : context_(std::move(context)), settings_(std::move(settings)) {
  for (auto& d : settings_.domains) d = absl::AsciiStrToLower(d);
  for (const auto& [user, _] : settings_.users) mailboxes_[user];
}

absl::Status Mda::start() {
  ServerEndpointSettings endpoint = settings_.endpoint;
  endpoint.session.hostname = context_.host;
  // The mailbox server speaks LMTP on port 24, as Dovecot's lmtp does.
  endpoint.session.lmtp = true;
  endpoint.session.greeting_text = "LMTP smtplab";
  return listen_smtp(context_, settings_.port, *this, endpoint, "mda");
}

const std::vector<StoredMessage>& Mda::mailbox(const std::string& user) const {
  static const std::vector<StoredMessage> kEmpty;
  auto it = mailboxes_.find(absl::AsciiStrToLower(user));
  return it == mailboxes_.end() ? kEmpty : it->second;
}

std::size_t Mda::used_octets(const std::string& user) const {
  std::size_t total = 0;
  for (const auto& m : mailbox(user)) total += m.content.size();
  return total;
}

std::optional<smtp::Reply> Mda::on_rcpt(const smtp::SessionState&, const smtp::Envelope& envelope,
                                        const smtp::Command& command) {
  const std::string user = absl::AsciiStrToLower(command.path.mailbox.local_part);
  const std::string domain = absl::AsciiStrToLower(command.path.mailbox.domain);
  if (!command.path.is_postmaster &&
      std::find(settings_.domains.begin(), settings_.domains.end(), domain) == settings_.domains.end()) {
    return smtp::make_reply(550, "5.1.2", absl::StrCat("Domain ", domain, " is not delivered here"));
  }
  auto it = settings_.users.find(command.path.is_postmaster ? "postmaster" : user);
  if (it == settings_.users.end()) {
    // RFC 3463 5.1.1: bad destination mailbox address.
    return smtp::make_reply(550, "5.1.1", absl::StrCat("<", command.path.mailbox.to_string(), ">: User unknown"));
  }
  const std::size_t quota = it->second.quota_octets;
  const std::size_t incoming = envelope.mail_params.size.value_or(0);
  if (quota != 0 && used_octets(it->first) + incoming > quota) {
    // RFC 3463 4.2.2 / 5.2.2: mailbox full.
    return settings_.quota_is_permanent ? smtp::make_reply(552, "5.2.2", "Mailbox full")
                                        : smtp::make_reply(452, "4.2.2", "Mailbox full, try again later");
  }
  return std::nullopt;
}

std::string Mda::user_of(const smtp::Recipient& r) {
  return r.path.is_postmaster ? "postmaster" : absl::AsciiStrToLower(r.path.mailbox.local_part);
}

std::optional<smtp::Reply> Mda::over_quota(const smtp::Recipient& r, std::size_t octets) const {
  const std::string user = user_of(r);
  const std::size_t quota = settings_.users.at(user).quota_octets;
  if (quota == 0 || used_octets(user) + octets <= quota) return std::nullopt;
  // RFC 3463 4.2.2 / 5.2.2: mailbox full.
  const std::string text = absl::StrCat(r.path.to_string(), " Mailbox full: ", user);
  return settings_.quota_is_permanent ? smtp::make_reply(552, "5.2.2", text) : smtp::make_reply(452, "4.2.2", text);
}

smtp::Reply Mda::file_copy(const smtp::Recipient& r, Delivery& d, bool last_copy) {
  const std::string user = user_of(r);
  if (auto full = over_quota(r, d.stored.size() - d.added.size())) return *full;
  if (!settings_.maildir_root.empty()) {
    // On disk, synced, before the 250 (RFC 5321 6.1).
    auto& store = maildirs_[user];
    if (!store) {
      std::error_code ignored;  // open() below says what went wrong
      std::filesystem::create_directories(settings_.maildir_root, ignored);
      auto opened = MaildirStore::open({.root = settings_.maildir_root + "/" + user, .fsync = true,
                                        .hostname = context_.host});
      if (!opened.ok()) {
        return smtp::make_reply(451, "4.3.0", absl::StrCat("Cannot open the mailbox of ", user, ": ",
                                                           opened.status().message()));
      }
      store = std::move(*opened);
    }
    if (auto written = store->deliver(d.added, std::string_view(d.stored).substr(d.added.size())); !written.ok()) {
      return smtp::make_reply(451, "4.3.0", absl::StrCat("Cannot write to the mailbox of ", user, ": ",
                                                         written.status().message()));
    }
  }
  const std::size_t octets = d.stored.size();
  mailboxes_[user].push_back(
      StoredMessage{last_copy ? std::move(d.stored) : d.stored, d.message_id, context_.clock.now()});
  if (context_.trace != nullptr) {
    sim::TraceEvent e;
    e.kind = sim::EventKind::kMailboxDeliver;
    e.host = context_.host;
    e.agent = "mda";
    e.message = d.message_id;
    e.text = absl::StrCat("filed into ", user, "'s mailbox (", octets, " octets)");
    e.explain = name_of(e.kind);
    e.details = {{sim::detail_key::kRecipient, r.path.mailbox.to_string()},
                 {sim::detail_key::kUser, user},
                 {sim::detail_key::kId, d.id},
                 {sim::detail_key::kOctets, std::to_string(octets)}};
    if (context_.trace->level() == sim::TraceLevel::kFull) e.details.emplace_back(sim::detail_key::kAdded, d.added);
    context_.trace->record(std::move(e));
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat(r.path.to_string(), " Ok: delivered as ", d.id));
}

Mda::Delivery Mda::prepare(const smtp::SessionState& state, const smtp::Envelope& envelope,
                           const std::string& message) {
  Delivery d;
  d.id = absl::StrFormat("D%05d", next_id_++);
  d.message_id = message_id_of(message);
  d.added = return_path_header(envelope) +
            received_header(state, envelope, context_.host, d.id, context_.clock.wall_now());
  d.stored = d.added + message;
  return d;
}

std::vector<smtp::Reply> Mda::on_message_each(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                              std::string message) {
  // LMTP (RFC 2033 4.2): each recipient's copy stands alone, so a full
  // mailbox refuses only its own recipient.
  Delivery d = prepare(state, envelope, message);
  std::vector<smtp::Reply> replies;
  const auto& recipients = envelope.recipients;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    replies.push_back(file_copy(recipients[i], d, i + 1 == recipients.size()));
  }
  return replies;
}

smtp::Reply Mda::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope, std::string message) {
  // Over SMTP one reply answers for every recipient, so every quota is
  // checked before any copy is filed; a Maildir that then fails to take a
  // copy fails the whole message, and the sender's retry may file the
  // earlier copies twice: a duplicate, never a loss. (The listener speaks
  // LMTP, which has none of this; this is for an SMTP owner.)
  for (const auto& r : envelope.recipients) {
    if (auto full = over_quota(r, message.size())) return *full;
  }
  Delivery d = prepare(state, envelope, message);
  const auto& recipients = envelope.recipients;
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    if (smtp::Reply reply = file_copy(recipients[i], d, i + 1 == recipients.size()); !reply.is_positive()) return reply;
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: delivered as ", d.id));
}

}  // namespace smtplab::agents
