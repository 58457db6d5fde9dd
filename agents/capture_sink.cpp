#include "agents/capture_sink.hpp"

#include "absl/strings/str_cat.h"
#include "agents/received_header.hpp"

namespace smtplab::agents {
CaptureSink::CaptureSink(MaildirStore& store, CaptureSinkSettings settings, std::function<absl::Time()> clock)
    : store_(store), settings_(std::move(settings)), clock_(std::move(clock)) {}

std::string CaptureSink::trace_headers(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                       const std::string& id) const {
  return return_path_header(envelope) + received_header(state, envelope, settings_.hostname, id, clock_());
}

smtp::Reply CaptureSink::on_message(const smtp::SessionState& state, const smtp::Envelope& envelope,
                                    std::string message) {
  // The Maildir file's unique name is the queue id: unique across processes
  // (as Postfix's long queue ids are), and it names the file to look for.
  const std::string id = store_.next_unique();
  auto stored = store_.deliver_as(id, trace_headers(state, envelope, id), message);
  if (!stored.ok()) {
    // Not stored means not accepted: a 4xx makes the client keep it and retry.
    return smtp::make_reply(451, "4.3.0", absl::StrCat("Error: cannot store message: ", stored.status().message()));
  }
  ++delivered_;
  return smtp::make_reply(250, "2.0.0", absl::StrCat("Ok: queued as ", id));
}

}  // namespace smtplab::agents
