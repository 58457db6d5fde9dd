#include "capture/capture_export.hpp"

#include <algorithm>
#include <memory>
#include <numeric>

#include "capture/dns_message.hpp"
#include "capture/packet_comments.hpp"
#include "capture/pcapng_writer.hpp"
#include "capture/tcp_conversation.hpp"

namespace smtplab::capture {
namespace {

constexpr std::uint16_t kDnsPort = 53;

std::string resolver_for(const CaptureOptions& options) {
  if (!options.resolver_address.empty()) return options.resolver_address;
  for (const char* candidate : {"192.0.2.53", "198.51.100.53", "203.0.113.53"}) {
    const bool taken = std::any_of(options.host_addresses.begin(), options.host_addresses.end(),
                                   [&](const auto& h) { return h.second == candidate; });
    if (!taken) return candidate;
  }
  return "192.0.2.253";
}

// Builds the frames of every record in turn; `comment_frame[i]` is where
// record i's comments go (none: it made no frame).
class FrameBuilder {
 public:
  FrameBuilder(const CaptureOptions& options, CaptureSummary& summary)
      : options_(options), summary_(summary), resolver_(parse_ip(resolver_for(options))) {}

  std::optional<std::size_t> add(const WireRecord& r) {
    return std::visit([&](const auto& body) { return add(r.stamp.at, body); }, r.body);
  }

  std::vector<Frame> finish() {
    for (auto& [id, c] : conversations_) c->finish(frames_);
    return std::move(frames_);
  }

 private:
  TcpConversation* conversation(std::uint64_t id) {
    auto it = conversations_.find(id);
    return it == conversations_.end() ? nullptr : it->second.get();
  }
  std::optional<std::size_t> skip() {
    ++summary_.skipped;
    return std::nullopt;
  }

  std::optional<std::size_t> add(absl::Time at, const wire::Connect& c) {
    auto client = parse_socket_address(c.client);
    auto server = parse_socket_address(c.server);
    if (!client || !server) return skip();
    ++summary_.connections;
    auto& conv = conversations_[c.connection];
    conv = std::make_unique<TcpConversation>(*client, *server, c.connection, ip_ids_);
    return conv->open(at, frames_);
  }
  std::optional<std::size_t> add(absl::Time at, const wire::Refused& c) {
    auto client = parse_socket_address(c.client);
    auto server = parse_socket_address(c.server);
    if (!client || !server) return skip();
    return TcpConversation::refused(at, *client, *server, c.connection, ip_ids_, frames_);
  }
  std::optional<std::size_t> add(absl::Time at, const wire::Unanswered& c) {
    auto client = parse_socket_address(c.client);
    auto server = parse_socket_address(c.server);
    if (!client || !server) return skip();
    return TcpConversation::unanswered(at, *client, *server, c.connection, c.waited, ip_ids_, frames_);
  }
  std::optional<std::size_t> add(absl::Time at, const wire::Bytes& b) {
    TcpConversation* c = conversation(b.connection);
    if (c == nullptr) return skip();
    return c->data(at, b.from, b.bytes, frames_);
  }
  std::optional<std::size_t> add(absl::Time at, const wire::Close& b) {
    TcpConversation* c = conversation(b.connection);
    if (c == nullptr) return skip();
    return c->close(at, b.from, frames_);
  }
  std::optional<std::size_t> add(absl::Time at, const wire::Reset& b) {
    TcpConversation* c = conversation(b.connection);
    if (c == nullptr) return skip();
    return c->reset(at, frames_);
  }
  // The asker's resolver library sends each query from a port of its own.
  std::optional<std::pair<SocketAddress, SocketAddress>> dns_ends(const sim::WireDnsQuestion& q, std::uint16_t id) {
    auto host = options_.host_addresses.find(q.asker);
    if (host == options_.host_addresses.end() || !resolver_) return std::nullopt;
    auto ip = parse_ip(host->second);
    if (!ip) return std::nullopt;
    return std::pair{SocketAddress{*ip, static_cast<std::uint16_t>(50000 + id % 10000)},
                     SocketAddress{*resolver_, kDnsPort}};
  }
  std::optional<std::size_t> add(absl::Time at, const wire::DnsQuery& d) {
    auto ends = dns_ends(d.question, d.id);
    auto message = dns_query_message(d.id, d.question);
    if (!ends || !message) return skip();
    ++summary_.dns_queries;
    frames_.push_back({at, udp_frame(ends->first, ends->second, *message, ip_ids_.next()), {}});
    return frames_.size() - 1;
  }
  std::optional<std::size_t> add(absl::Time at, const wire::DnsAnswer& d) {
    auto ends = dns_ends(d.question, d.id);
    auto message = dns_answer_message(d.id, d.question, d.rcode, d.answers);
    if (!ends || !message) return skip();
    frames_.push_back({at, udp_frame(ends->second, ends->first, *message, ip_ids_.next()), {}});
    return frames_.size() - 1;
  }

  const CaptureOptions& options_;
  CaptureSummary& summary_;
  std::optional<IpAddress> resolver_;
  IpIds ip_ids_;
  std::map<std::uint64_t, std::unique_ptr<TcpConversation>> conversations_;
  std::vector<Frame> frames_;
};

}  // namespace

absl::StatusOr<CaptureSummary> write_capture(const std::string& path, const std::vector<WireRecord>& records,
                                             const std::vector<sim::TraceEvent>& events,
                                             const CaptureOptions& options) {
  CaptureSummary summary;
  const auto explaining = explaining_events(records, events);
  FrameBuilder builder(options, summary);
  std::vector<std::pair<std::size_t, std::size_t>> commented;  // frame, record
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::optional<std::size_t> frame = builder.add(records[i]);
    if (frame && !explaining[i].empty()) commented.emplace_back(*frame, i);
  }
  std::vector<Frame> frames = builder.finish();
  for (const auto& [frame, record] : commented) {
    for (const sim::TraceEvent* e : explaining[record]) frames[frame].comments.push_back(packet_comment(*e));
  }
  // Frames were made connection by connection; a capture is in time order
  // (ties keep the order they were made in).
  std::vector<std::size_t> order(frames.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return frames[a].at < frames[b].at; });

  auto writer = PcapngWriter::create(path, "smtplab world");
  if (!writer.ok()) return writer.status();
  for (std::size_t i : order) {
    if (auto st = writer->write_packet(frames[i].at, frames[i].bytes, frames[i].comments); !st.ok()) return st;
  }
  if (auto st = writer->close(); !st.ok()) return st;
  summary.packets = frames.size();
  return summary;
}

}  // namespace smtplab::capture
