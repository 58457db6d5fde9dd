#include "capture/wire_log.hpp"

namespace smtplab::capture {

void WireLog::add(absl::Duration at, WireRecordBody body) {
  std::lock_guard lock(mutex_);
  records_.push_back({{epoch_ + at, trace_ != nullptr ? trace_->count() : 0}, std::move(body)});
}

void WireLog::on_connect(absl::Duration at, std::uint64_t connection, const std::string& client,
                         const std::string& server) {
  add(at, wire::Connect{connection, client, server});
}

void WireLog::on_refused(absl::Duration at, std::uint64_t connection, const std::string& client,
                         const std::string& server) {
  add(at, wire::Refused{connection, client, server});
}

void WireLog::on_unanswered(absl::Duration at, std::uint64_t connection, const std::string& client,
                            const std::string& server, absl::Duration waited) {
  add(at, wire::Unanswered{connection, client, server, waited});
}

void WireLog::on_bytes(absl::Duration at, std::uint64_t connection, sim::WireSide from, std::string_view bytes) {
  add(at, wire::Bytes{connection, from, std::string(bytes)});
}

void WireLog::on_close(absl::Duration at, std::uint64_t connection, sim::WireSide from) {
  add(at, wire::Close{connection, from});
}

void WireLog::on_reset(absl::Duration at, std::uint64_t connection) { add(at, wire::Reset{connection}); }

void WireLog::on_dns_query(absl::Duration at, std::uint16_t id, const sim::WireDnsQuestion& question) {
  add(at, wire::DnsQuery{id, question});
}

void WireLog::on_dns_answer(absl::Duration at, std::uint16_t id, const sim::WireDnsQuestion& question, int rcode,
                            const std::vector<sim::WireDnsRecord>& answers) {
  add(at, wire::DnsAnswer{id, question, rcode, answers});
}

std::vector<WireRecord> WireLog::records() const {
  std::lock_guard lock(mutex_);
  return records_;
}

}  // namespace smtplab::capture
