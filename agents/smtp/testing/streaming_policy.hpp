// A ServerPolicy for tests that takes message text as it arrives
// (ServerPolicy::open_message): it records every part its writer is given,
// and whether each message was committed or thrown away. With
// `group_commit`, its writers answer later (MessageWriter::commits_later):
// the test holds each answer's callback in `pending_commits`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agents/smtp/server_policy.hpp"

namespace smtplab::smtp::testing {

class StreamingPolicy : public ServerPolicy {
 public:
  struct Message {
    std::vector<std::string> parts;  // as the writer got them
    bool committed = false;
    bool discarded = false;  // destroyed without commit()
    std::string text() const {
      std::string all;
      for (const auto& p : parts) all += p;
      return all;
    }
  };
  std::vector<Message> messages;
  int whole_messages = 0;  // on_message calls: none are expected
  bool group_commit = false;
  std::vector<std::function<void(Reply)>> pending_commits;

  std::unique_ptr<MessageWriter> open_message(const SessionState&, const Envelope&) override {
    messages.emplace_back();
    return std::make_unique<Writer>(*this, messages.size() - 1);
  }
  Reply on_message(const SessionState&, const Envelope&, std::string) override {
    ++whole_messages;
    return make_reply(250, "2.0.0", "Ok");
  }

 private:
  class Writer : public MessageWriter {
   public:
    Writer(StreamingPolicy& policy, std::size_t index) : policy_(policy), index_(index) {}
    ~Writer() override {
      if (!policy_.messages[index_].committed) policy_.messages[index_].discarded = true;
    }
    void write(std::string_view text) override { policy_.messages[index_].parts.emplace_back(text); }
    Reply commit() override {
      policy_.messages[index_].committed = true;
      return make_reply(250, "2.0.0", "Ok: streamed");
    }
    bool commits_later() const override { return policy_.group_commit; }
    void commit_later(std::function<void(Reply)> done) override {
      policy_.messages[index_].committed = true;
      policy_.pending_commits.push_back(std::move(done));
    }

   private:
    StreamingPolicy& policy_;
    std::size_t index_;
  };
};

}  // namespace smtplab::smtp::testing
