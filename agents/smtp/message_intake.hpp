// Where the text of the message being received goes: to the policy's
// MessageWriter part by part as it arrives (ServerPolicy::open_message), or
// into one string for ServerPolicy::on_message. Either way it counts the
// octets and notes a NUL on the way, since a streamed message cannot be
// searched whole at the end (RFC 5322 2.3 forbids NUL in text).
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agents/smtp/server_policy.hpp"

namespace smtplab::smtp {

class MessageIntake {
 public:
  explicit MessageIntake(std::unique_ptr<MessageWriter> writer) : writer_(std::move(writer)) {}

  // Whether the text goes on as it arrives (and whole() stays empty).
  bool streaming() const { return writer_ != nullptr; }

  void add(std::string_view text) {
    note(text);
    if (writer_) {
      writer_->write(text);
    } else {
      whole_.append(text);
    }
  }
  // The same, without a copy when nothing is held yet (DATA's whole text).
  void add(std::string&& text) {
    if (writer_ || !whole_.empty()) {
      add(std::string_view(text));
      return;
    }
    note(text);
    whole_ = std::move(text);
  }

  std::size_t octets() const { return octets_; }
  bool saw_nul() const { return saw_nul_; }
  // The message so far when it is collected whole; empty when streaming.
  std::string_view whole() const { return whole_; }

  // Hands the complete message to the policy: its writer commits, or
  // on_message gets the whole text. Once only.
  Reply deliver(ServerPolicy& policy, const SessionState& state, const Envelope& envelope) {
    if (writer_) return writer_->commit();
    return policy.on_message(state, envelope, std::move(whole_));
  }
  // Whether the writer answers the final dot later (a group commit).
  bool commits_later() const { return writer_ != nullptr && writer_->commits_later(); }
  void commit_later(std::function<void(Reply)> done) { writer_->commit_later(std::move(done)); }
  // LMTP: one reply per recipient (a writer's one commit answers for all).
  std::vector<Reply> deliver_each(ServerPolicy& policy, const SessionState& state, const Envelope& envelope) {
    if (writer_) return std::vector<Reply>(envelope.recipients.size(), writer_->commit());
    return policy.on_message_each(state, envelope, std::move(whole_));
  }

 private:
  void note(std::string_view text) {
    octets_ += text.size();
    if (!saw_nul_ && !text.empty() && std::memchr(text.data(), '\0', text.size()) != nullptr) saw_nul_ = true;
  }

  std::unique_ptr<MessageWriter> writer_;
  std::string whole_;
  std::size_t octets_ = 0;
  bool saw_nul_ = false;
};

}  // namespace smtplab::smtp
