#include "agents/capture_sink.hpp"

#include "absl/strings/str_cat.h"
#include "agents/maildir_group_commit.hpp"
#include "agents/received_header.hpp"

namespace smtplab::agents {
CaptureSink::CaptureSink(MaildirStore& store, CaptureSinkSettings settings, std::function<absl::Time()> clock)
    : store_(store), settings_(std::move(settings)), clock_(std::move(clock)) {}

std::string CaptureSink::trace_headers(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                       const std::string& id) const {
  return return_path_header(envelope) + received_header(state, envelope, settings_.hostname, id, clock_());
}

smtp::Reply CaptureSink::stored_reply(const absl::StatusOr<std::string>& stored, const std::string& id) {
  if (!stored.ok()) {
    // Not stored means not accepted: a 4xx makes the client keep it and retry.
    return smtp::make_reply(451, "4.3.0", absl::StrCat("Error: cannot store message: ", stored.status().message()));
  }
  ++delivered_;
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: queued as ", id));
}

class CaptureSink::Writer final : public smtp::MessageWriter {
 public:
  Writer(CaptureSink& sink, std::string id, std::unique_ptr<MaildirStore::Delivery> delivery)
      : sink_(sink), id_(std::move(id)), delivery_(std::move(delivery)) {}

  void write(std::string_view text) override { delivery_->write(text); }

  smtp::Reply commit() override { return sink_.stored_reply(delivery_->commit(), id_); }

  bool commits_later() const override { return sink_.settings_.group_commit != nullptr; }
  void commit_later(std::function<void(smtp::Reply)> done) override {
    sink_.settings_.group_commit->commit(
        std::move(delivery_), [&sink = sink_, id = id_, done = std::move(done)](absl::StatusOr<std::string> stored) {
          done(sink.stored_reply(stored, id));
        });
  }

 private:
  CaptureSink& sink_;
  std::string id_;
  std::unique_ptr<MaildirStore::Delivery> delivery_;
};

std::unique_ptr<smtp::MessageWriter> CaptureSink::open_message(const smtp::SessionState& state,
                                                               const smtp::Envelope& envelope) {
  // The Maildir file's unique name is the queue id: unique across processes
  // (as Postfix's long queue ids are), and it names the file to look for.
  std::string id = store_.next_unique();
  auto delivery = store_.begin(id);
  delivery->write(trace_headers(state, envelope, id));
  return std::make_unique<Writer>(*this, std::move(id), std::move(delivery));
}

smtp::Reply CaptureSink::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                    std::string message) {
  std::unique_ptr<smtp::MessageWriter> writer = open_message(state, envelope);
  writer->write(message);
  return writer->commit();
}

}  // namespace smtplab::agents
