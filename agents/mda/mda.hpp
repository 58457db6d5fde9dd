// The mail delivery agent: the last hop. It accepts mail for its users over
// LMTP (RFC 2033) from its MTA, as Dovecot does for Postfix, and files each
// message into the user's mailbox, with a Return-Path and Received header.
// Unknown users get 550 5.1.1 at RCPT; a full mailbox 452 4.2.2 (try later)
// or 552 5.2.2 (give up), as configured, at RCPT when SIZE= says so and
// after the text for that recipient alone.
// In the simulator mailboxes live in memory with exactly the bytes a Maildir
// file would hold.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agents/host_context.hpp"
#include "agents/maildir_store.hpp"
#include "agents/smtp/server_policy.hpp"
#include "agents/smtp_server_endpoint.hpp"

namespace smtplab::agents {

struct MailboxSettings {
  std::size_t quota_octets = 0;  // 0: no quota
};

struct MdaSettings {
  int port = 24;  // LMTP's customary port (RFC 2033 says never 25)
  std::vector<std::string> domains;                // whose users live here
  std::map<std::string, MailboxSettings> users;    // local part (lower case) -> settings
  bool quota_is_permanent = false;                 // 552 5.2.2 instead of 452 4.2.2
  // Where real Maildirs go (ROOT/USER/{tmp,new,cur}), written and synced
  // before the 250; empty: mailboxes live in memory only (the simulator).
  std::string maildir_root;
  ServerEndpointSettings endpoint;
};

struct StoredMessage {
  std::string content;     // Return-Path + Received + the message as received
  std::string message_id;  // from the Message-ID header
  absl::Duration delivered_at;
};

class Mda : public smtp::ServerPolicy {
 public:
  Mda(HostContext context, MdaSettings settings);
  absl::Status start();

  std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) override;
  smtp::Reply on_message(const smtp::SessionState&, const smtp::Envelope&, std::string message) override;
  std::vector<smtp::Reply> on_message_each(const smtp::SessionState&, const smtp::Envelope&,
                                           std::string message) override;

  const std::map<std::string, std::vector<StoredMessage>>& mailboxes() const { return mailboxes_; }
  const std::vector<StoredMessage>& mailbox(const std::string& user) const;
  std::size_t used_octets(const std::string& user) const;

 private:
  // One message's copy for its recipients: the headers this hop adds on top.
  struct Delivery {
    std::string id, message_id, added, stored;  // stored = added + the message
  };
  static std::string user_of(const smtp::Recipient& r);
  std::optional<smtp::Reply> over_quota(const smtp::Recipient& r, std::size_t octets) const;
  Delivery prepare(const smtp::SessionState& state, const smtp::Envelope& envelope, const std::string& message);
  // Files one recipient's copy (synced first when on disk) and traces it.
  // The last copy takes d.stored itself: one recipient, one text.
  smtp::Reply file_copy(const smtp::Recipient& r, Delivery& d, bool last_copy);

  HostContext context_;
  MdaSettings settings_;
  std::map<std::string, std::vector<StoredMessage>> mailboxes_;
  std::map<std::string, std::unique_ptr<MaildirStore>> maildirs_;  // by user, opened on first delivery
  std::uint64_t next_id_ = 1;
};

}  // namespace smtplab::agents
