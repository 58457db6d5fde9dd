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

smtp::Reply Mda::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope, std::string message) {
  // SMTP has one reply for all recipients after DATA (LMTP, RFC 2033, would
  // give one each), so a quota overrun refuses the whole message.
  for (const auto& r : envelope.recipients) {
    const std::string user = r.path.is_postmaster ? "postmaster" : absl::AsciiStrToLower(r.path.mailbox.local_part);
    const std::size_t quota = settings_.users.at(user).quota_octets;
    if (quota != 0 && used_octets(user) + message.size() > quota) {
      return settings_.quota_is_permanent ? smtp::make_reply(552, "5.2.2", absl::StrCat("Mailbox full: ", user))
                                          : smtp::make_reply(452, "4.2.2", absl::StrCat("Mailbox full: ", user));
    }
  }
  const std::string id = absl::StrFormat("D%05d", next_id_++);
  const std::string message_id = message_id_of(message);
  const std::string added = return_path_header(envelope) +
                            received_header(state, envelope, context_.host, id, context_.clock.wall_now());
  const std::string stored = added + message;
  if (!settings_.maildir_root.empty()) {
    // Every copy on disk before any 250 (RFC 5321 6.1): a recipient whose
    // Maildir cannot be written fails the whole message, which the sender
    // then retries (same single reply after DATA as for quotas). Copies
    // already written for earlier recipients stay, so a retry may file one
    // twice: a duplicate, never a loss.
    for (const auto& r : envelope.recipients) {
      const std::string user = r.path.is_postmaster ? "postmaster" : absl::AsciiStrToLower(r.path.mailbox.local_part);
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
      if (auto written = store->deliver(added, message); !written.ok()) {
        return smtp::make_reply(451, "4.3.0", absl::StrCat("Cannot write to the mailbox of ", user, ": ",
                                                           written.status().message()));
      }
    }
  }
  for (const auto& r : envelope.recipients) {
    const std::string user = r.path.is_postmaster ? "postmaster" : absl::AsciiStrToLower(r.path.mailbox.local_part);
    mailboxes_[user].push_back(StoredMessage{stored, message_id, context_.clock.now()});
    if (context_.trace != nullptr) {
      sim::TraceEvent e;
      e.kind = sim::EventKind::kMailboxDeliver;
      e.host = context_.host;
      e.agent = "mda";
      e.message = message_id;
      e.text = absl::StrCat("filed into ", user, "'s mailbox (", stored.size(), " octets)");
      e.explain = name_of(e.kind);
      e.details = {{sim::detail_key::kRecipient, r.path.mailbox.to_string()},
                   {sim::detail_key::kUser, user},
                   {sim::detail_key::kId, id},
                   {sim::detail_key::kOctets, std::to_string(stored.size())}};
      if (context_.trace->level() == sim::TraceLevel::kFull) e.details.emplace_back(sim::detail_key::kAdded, added);
      context_.trace->record(std::move(e));
    }
  }
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: delivered as ", id));
}

}  // namespace smtplab::agents
