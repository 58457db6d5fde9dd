#include "sim/inprocess/sim_network.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"

namespace smtplab::sim {

// One end of an in-process connection. Sending schedules delivery at the
// peer; closing and timeouts go through the scheduler too, so a handler is
// never re-entered from inside its own callback.
class SimNetwork::Endpoint final : public Connection {
 public:
  Endpoint(SimNetwork& net, std::uint64_t pair_id, int side, std::string host, std::string peer_host,
           std::string local, std::string peer)
      : net_(net), pair_id_(pair_id), side_(side), host_(std::move(host)), peer_host_(std::move(peer_host)),
        local_(std::move(local)), peer_(std::move(peer)) {}

  void send(std::string_view bytes) override;
  void close() override;
  void set_timeout(absl::Duration timeout) override {
    timeout_ = timeout;
    arm_idle_timer();
  }
  void set_timeout_clock(TimeoutClock clock) override { clock_ = clock; }
  void extend_timeout(absl::Duration credit) override {
    if (clock_ != TimeoutClock::kPerRequest) return;
    // The deadline is last_activity_ + timeout_; the idle check looks again.
    last_activity_ = std::min(last_activity_ + credit, net_.scheduler_.now());
  }
  Waker waker() override;
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }
  std::uint64_t id() const override { return pair_id_; }

  void open(std::unique_ptr<ConnectionHandler> handler) {
    handler_ = std::move(handler);
    arm_idle_timer();
    handler_->on_open(*this);
  }
  void receive(std::string_view bytes) {
    if (finished_ || !handler_) return;
    if (clock_ == TimeoutClock::kIdle) arm_idle_timer();  // receiving is activity
    handler_->on_bytes(bytes);
  }
  void finish(std::string_view why) {
    if (finished_) return;
    finished_ = true;
    net_.scheduler_.cancel(idle_timer_);
    if (handler_) {
      std::unique_ptr<ConnectionHandler> h = std::move(handler_);
      h->on_closed(why);
    }
  }
  bool finished() const { return finished_; }
  const std::string& host() const { return host_; }
  const std::string& peer_host() const { return peer_host_; }

 private:
  // One timer per endpoint, moved only when it fires early: activity just
  // records the time. (Cancelling and re-adding a timer on every packet
  // filled the scheduler's heap with dead entries.)
  void arm_idle_timer() {
    if (finished_) return;
    last_activity_ = net_.scheduler_.now();
    const absl::Duration deadline = last_activity_ + timeout_;
    if (idle_timer_ != 0 && timer_due_ <= deadline) return;  // fires in time, then looks again
    net_.scheduler_.cancel(idle_timer_);
    schedule_idle_check(deadline);
  }
  void schedule_idle_check(absl::Duration when) {
    timer_due_ = when;
    idle_timer_ = net_.scheduler_.schedule_at(when, [this] {
      idle_timer_ = 0;
      if (finished_) return;
      const absl::Duration deadline = last_activity_ + timeout_;
      if (net_.scheduler_.now() < deadline) {
        schedule_idle_check(deadline);
        return;
      }
      handler_->on_timeout();
      close();
    });
  }

  SimNetwork& net_;
  std::uint64_t pair_id_;
  int side_;
  std::string host_, peer_host_, local_, peer_;
  std::unique_ptr<ConnectionHandler> handler_;
  absl::Duration timeout_ = absl::Minutes(5);
  TimeoutClock clock_ = TimeoutClock::kIdle;
  TimerId idle_timer_ = 0;
  absl::Duration timer_due_ = absl::ZeroDuration();
  absl::Duration last_activity_ = absl::ZeroDuration();
  absl::Duration busy_until_ = absl::ZeroDuration();  // the link is sending our earlier bytes until then
  absl::Duration last_arrival_ = absl::ZeroDuration();
  bool close_sent_ = false;
  bool finished_ = false;

  friend class SimNetwork;
};

struct SimNetwork::Pair {
  std::unique_ptr<Endpoint> side[2];  // 0: the connecting client, 1: the server
  std::pair<std::string, int> listener;
  std::uint64_t reset_after_bytes = 0;  // 0: no reset planned
  std::uint64_t bytes_carried = 0;
  // Bytes (or a close, as nullopt) sent while partitioned, per direction.
  std::vector<std::pair<int, std::optional<std::string>>> held;
  // Bytes on their way towards side 0 and side 1, oldest first. Arrivals in
  // one direction never overtake each other (Endpoint::last_arrival_), so
  // each delivery event takes the front one.
  std::deque<std::string> in_flight[2];
};

Waker SimNetwork::Endpoint::waker() {
  // One thread: the task runs from the scheduler, if this end still lives.
  return [net = &net_, id = pair_id_, me = side_](std::function<void()> task) {
    net->scheduler_.schedule(absl::ZeroDuration(), [net, id, me, task = std::move(task)] {
      auto it = net->connections_.find(id);
      if (it == net->connections_.end() || it->second->side[me]->finished()) return;
      task();
    });
  };
}

void SimNetwork::Endpoint::send(std::string_view bytes) {
  if (finished_ || close_sent_ || bytes.empty()) return;
  // Per request, the reply that ends one starts the next one's deadline.
  if (clock_ == TimeoutClock::kPerRequest) arm_idle_timer();
  Scheduler& s = net_.scheduler_;
  // The server's own bytes are seen as it sends them, the client's as they reach it.
  if (net_.wire_ != nullptr && side_ == 1) net_.wire_->on_bytes(s.now(), pair_id_, WireSide::kServer, bytes);
  const LinkProperties& link = net_.link(host_, peer_host_);
  const absl::Duration start = std::max(s.now(), busy_until_);
  const absl::Duration transmit =
      link.bytes_per_second > 0 ? absl::Seconds(static_cast<double>(bytes.size()) / link.bytes_per_second)
                                : absl::ZeroDuration();
  busy_until_ = start + transmit;
  const absl::Duration arrival = std::max(busy_until_ + link.latency, last_arrival_);
  last_arrival_ = arrival;
  Pair& pair = *net_.connections_.at(pair_id_);
  if (net_.partitioned(host_, peer_host_)) {
    pair.held.emplace_back(1 - side_, std::string(bytes));
    return;
  }
  const int to = 1 - side_;
  pair.in_flight[to].push_back(net_.take_buffer(bytes));
  // Two words: the callback fits std::function's own storage, no allocation.
  s.schedule_at(arrival, [net = &net_, id_and_side = pair_id_ << 1 | static_cast<std::uint64_t>(to)] {
    net->deliver_in_flight(id_and_side >> 1, static_cast<int>(id_and_side & 1));
  });
}

void SimNetwork::Endpoint::close() {
  if (finished_ || close_sent_) return;
  close_sent_ = true;
  Scheduler& s = net_.scheduler_;
  if (net_.wire_ != nullptr && side_ == 1) net_.wire_->on_close(s.now(), pair_id_, WireSide::kServer);
  Pair& pair = *net_.connections_.at(pair_id_);
  // The FIN follows the bytes already on their way.
  const absl::Duration arrival = std::max(busy_until_ + net_.link(host_, peer_host_).latency, last_arrival_);
  if (net_.partitioned(host_, peer_host_)) {
    pair.held.emplace_back(1 - side_, std::nullopt);
  } else {
    s.schedule_at(arrival, [net = &net_, id = pair_id_, to = 1 - side_] { net->deliver_close(id, to); });
  }
  s.schedule(absl::ZeroDuration(), [net = &net_, id = pair_id_, me = side_] {
    auto it = net->connections_.find(id);
    if (it == net->connections_.end()) return;
    it->second->side[me]->finish("closed");
    net->retire_if_done(id);
  });
}

SimNetwork::SimNetwork(Scheduler& scheduler, Trace* trace) : scheduler_(scheduler), trace_(trace) {}
SimNetwork::~SimNetwork() = default;

absl::Status SimNetwork::add_host(const std::string& name, const std::string& address) {
  if (host_to_address_.count(name) || address_to_host_.count(address)) {
    return absl::AlreadyExistsError(absl::StrCat("host ", name, " or address ", address, " already exists"));
  }
  host_to_address_[name] = address;
  address_to_host_[address] = name;
  return absl::OkStatus();
}

absl::Status SimNetwork::listen(const std::string& host, int port, HandlerFactory factory) {
  if (!host_to_address_.count(host)) return absl::NotFoundError(absl::StrCat("no host ", host));
  listeners_[{host, port}] = std::move(factory);
  return absl::OkStatus();
}

void SimNetwork::stop_listening(const std::string& host, int port) { listeners_.erase({host, port}); }

std::string SimNetwork::host_of_address(const std::string& address) const {
  auto it = address_to_host_.find(address);
  return it == address_to_host_.end() ? std::string() : it->second;
}

std::string SimNetwork::address_of(const std::string& host) const {
  auto it = host_to_address_.find(host);
  return it == host_to_address_.end() ? std::string() : it->second;
}

void SimNetwork::set_link(const std::string& a, const std::string& b, const LinkProperties& l) {
  links_[owned(host_pair(a, b))] = l;
}

const LinkProperties& SimNetwork::link(const std::string& a, const std::string& b) const {
  auto it = links_.find(host_pair(a, b));
  return it == links_.end() ? default_link_ : it->second;
}

bool SimNetwork::partitioned(const std::string& a, const std::string& b) const {
  return partitions_.contains(host_pair(a, b));
}

bool SimNetwork::host_up(const std::string& host) const { return !down_.count(host); }

void SimNetwork::trace(EventKind kind, const std::string& host, const std::string& peer, std::uint64_t conn,
                       std::string text) {
  record_link_event(trace_, kind, "net", host, peer, conn, std::move(text));
}

std::string SimNetwork::client_address(const std::string& host, std::uint64_t id) const {
  return absl::StrCat(address_of(host), ":", 40000 + id % 20000);
}

void SimNetwork::connect(const std::string& from_host, const std::string& address, int port,
                         std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) {
  const std::string to_host = host_of_address(address);
  const std::uint64_t id = next_connection_++;
  const std::string target = absl::StrCat(address, ":", port);
  std::shared_ptr<ConnectionHandler> owned(std::move(handler));
  auto fail_later = [this, owned, from_host, to_host, id](absl::Duration after, std::string why, EventKind kind) {
    scheduler_.schedule(after, [this, owned, from_host, to_host, id, why, kind] {
      trace(kind, from_host, to_host, id, why);
      owned->on_closed(why);
    });
  };
  const LinkProperties& l = link(from_host, to_host);
  if (to_host.empty() || !host_up(to_host) || !host_up(from_host) || partitioned(from_host, to_host)) {
    // No answer at all: the SYN is lost, the client gives up after its timeout.
    if (wire_ != nullptr) wire_->on_unanswered(scheduler_.now(), id, client_address(from_host, id), target, timeout);
    fail_later(timeout, absl::StrCat("connection to ", target, " timed out"), EventKind::kConnTimeout);
    return;
  }
  auto listener = listeners_.find({to_host, port});
  if (listener == listeners_.end()) {
    // The SYN reaches the host one latency on, and is answered with a reset.
    if (wire_ != nullptr) wire_->on_refused(scheduler_.now() + l.latency, id, client_address(from_host, id), target);
    fail_later(2 * l.latency, absl::StrCat("connection to ", target, " refused"), EventKind::kConnRefused);
    return;
  }
  // SYN arrives after one latency (the server accepts), the SYN-ACK after two.
  scheduler_.schedule(l.latency, [this, owned, from_host, to_host, address, port, id, l, fail_later, target] {
    auto listener = listeners_.find({to_host, port});
    if (listener == listeners_.end() || !host_up(to_host)) {
      if (wire_ != nullptr) wire_->on_refused(scheduler_.now(), id, client_address(from_host, id), target);
      fail_later(l.latency, absl::StrCat("connection to ", target, " refused"), EventKind::kConnRefused);
      return;
    }
    auto pair = std::make_unique<Pair>();
    pair->listener = {to_host, port};
    if (reset_probability_ > 0 && reset_max_bytes_ > 0) {
      std::uniform_real_distribution<double> chance(0.0, 1.0);
      if (chance(scheduler_.rng()) < reset_probability_) {
        pair->reset_after_bytes = 1 + scheduler_.rng()() % reset_max_bytes_;
      }
    }
    const std::string client_address = this->client_address(from_host, id);
    const std::string server_address = absl::StrCat(address, ":", port);
    pair->side[0] = std::make_unique<Endpoint>(*this, id, 0, from_host, to_host, client_address, server_address);
    pair->side[1] = std::make_unique<Endpoint>(*this, id, 1, to_host, from_host, server_address, client_address);
    ConnectionInfo info{client_address, server_address, ++active_per_listener_[pair->listener], id, from_host};
    Endpoint* server = pair->side[1].get();
    connections_[id] = std::move(pair);
    // The wire hears of each thing before the trace does: the capture's
    // comments hang on that order (capture/packet_comments.hpp).
    if (wire_ != nullptr) wire_->on_connect(scheduler_.now(), id, client_address, server_address);
    trace(EventKind::kConnOpen, from_host, to_host, id, absl::StrCat(client_address, " -> ", server_address));
    // The client learns of the connection one latency later (the SYN-ACK).
    // Scheduled before the server speaks, so the client is open before the
    // server's first bytes arrive at the same instant.
    scheduler_.schedule(l.latency, [this, owned, id] {
      auto it = connections_.find(id);
      if (it == connections_.end() || it->second->side[0]->finished()) {
        owned->on_closed("connection reset");
        return;
      }
      // The handler is shared with fail_later's closures; hand the connection
      // an owner of its own that forwards to it.
      struct Forward : ConnectionHandler {
        std::shared_ptr<ConnectionHandler> inner;
        void on_open(Connection& c) override { inner->on_open(c); }
        void on_bytes(std::string_view b) override { inner->on_bytes(b); }
        void on_timeout() override { inner->on_timeout(); }
        void on_closed(std::string_view w) override { inner->on_closed(w); }
      };
      auto forward = std::make_unique<Forward>();
      forward->inner = owned;
      it->second->side[0]->open(std::move(forward));
    });
    server->open(listener->second(info));
  });
}

void SimNetwork::set_tap(const std::string& a, const std::string& b, std::shared_ptr<LinkTap> tap) {
  taps_[owned(host_pair(a, b))] = std::move(tap);
}

void SimNetwork::deliver(std::uint64_t pair_id, int to_side, std::string bytes) {
  auto it = connections_.find(pair_id);
  if (it == connections_.end()) return;
  Pair& pair = *it->second;
  if (!taps_.empty()) {
    const std::string& from = pair.side[1 - to_side]->host();
    const std::string& to = pair.side[to_side]->host();
    if (auto tap = taps_.find(host_pair(from, to)); tap != taps_.end()) {
      bytes = tap->second->on_bytes(pair_id, from, to, std::move(bytes));
    }
  }
  pair.bytes_carried += bytes.size();
  if (pair.reset_after_bytes != 0 && pair.bytes_carried >= pair.reset_after_bytes) {
    // Deliver what fits before the reset point, then reset both ends.
    const std::size_t over = pair.bytes_carried - pair.reset_after_bytes;
    if (over < bytes.size()) {
      const std::string_view part = std::string_view(bytes).substr(0, bytes.size() - over);
      if (wire_ != nullptr && to_side == 1) wire_->on_bytes(scheduler_.now(), pair_id, WireSide::kClient, part);
      pair.side[to_side]->receive(part);
    }
    reset_pair(pair_id, "connection reset by peer");
    return;
  }
  if (wire_ != nullptr && to_side == 1) wire_->on_bytes(scheduler_.now(), pair_id, WireSide::kClient, bytes);
  pair.side[to_side]->receive(bytes);
  give_back_buffer(std::move(bytes));
}

void SimNetwork::deliver_in_flight(std::uint64_t pair_id, int to_side) {
  auto it = connections_.find(pair_id);
  if (it == connections_.end()) return;  // reset or retired: its bytes went with it
  std::deque<std::string>& queue = it->second->in_flight[to_side];
  std::string bytes = std::move(queue.front());
  queue.pop_front();
  // A tap may replace the buffer; deliver() hands back whichever it ends with.
  deliver(pair_id, to_side, std::move(bytes));
}

std::string SimNetwork::take_buffer(std::string_view bytes) {
  if (spare_buffers_.empty()) return std::string(bytes);
  std::string buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  buffer.assign(bytes);
  return buffer;
}

void SimNetwork::give_back_buffer(std::string buffer) {
  // Keep a few of everyday size; a 10 MB message text is not kept around.
  constexpr std::size_t kSpareBuffers = 64;
  constexpr std::size_t kLargestKept = 64 * 1024;
  if (spare_buffers_.size() < kSpareBuffers && buffer.capacity() <= kLargestKept) {
    buffer.clear();
    spare_buffers_.push_back(std::move(buffer));
  }
}

void SimNetwork::deliver_close(std::uint64_t pair_id, int to_side) {
  auto it = connections_.find(pair_id);
  if (it == connections_.end()) return;
  Pair& pair = *it->second;
  const std::string host = pair.side[to_side]->host();
  if (wire_ != nullptr && to_side == 1) wire_->on_close(scheduler_.now(), pair_id, WireSide::kClient);
  trace(EventKind::kConnClose, pair.side[1 - to_side]->host(), host, pair_id, "connection closed");
  pair.side[to_side]->finish("closed by peer");
  retire_if_done(pair_id);
}

void SimNetwork::reset_pair(std::uint64_t pair_id, const std::string& why) {
  auto it = connections_.find(pair_id);
  if (it == connections_.end()) return;
  std::unique_ptr<Pair> pair = std::move(it->second);
  connections_.erase(it);
  if (active_per_listener_[pair->listener] > 0) --active_per_listener_[pair->listener];
  if (wire_ != nullptr) wire_->on_reset(scheduler_.now(), pair_id);
  trace(EventKind::kConnReset, pair->side[0]->host(), pair->side[1]->host(), pair_id, why);
  pair->side[0]->finish(why);
  pair->side[1]->finish(why);
}

void SimNetwork::retire_if_done(std::uint64_t pair_id) {
  auto it = connections_.find(pair_id);
  if (it == connections_.end()) return;
  if (!it->second->side[0]->finished() || !it->second->side[1]->finished()) return;
  if (active_per_listener_[it->second->listener] > 0) --active_per_listener_[it->second->listener];
  // Endpoints may still be on the call stack; free them from a fresh event.
  std::shared_ptr<Pair> done(std::move(it->second));
  connections_.erase(it);
  scheduler_.schedule(absl::ZeroDuration(), [done] {});
}

void SimNetwork::set_host_up(const std::string& host, bool up) {
  if (up == host_up(host)) return;
  if (up) {
    down_.erase(host);
    trace(EventKind::kHostUp, host, "", 0, absl::StrCat(host, " is up"));
    return;
  }
  down_.insert(host);
  trace(EventKind::kHostDown, host, "", 0, absl::StrCat(host, " went down"));
  reset_connections(host);
}

void SimNetwork::reset_connections(const std::string& host) {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, pair] : connections_) {
    if (pair->side[0]->host() == host || pair->side[1]->host() == host) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());  // deterministic order
  for (std::uint64_t id : ids) reset_pair(id, "connection reset");
}

void SimNetwork::reset_connection_after(std::uint64_t connection_id, std::uint64_t after_bytes) {
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  it->second->reset_after_bytes = it->second->bytes_carried + std::max<std::uint64_t>(after_bytes, 1);
}

void SimNetwork::partition(const std::string& a, const std::string& b) {
  partitions_.insert(owned(host_pair(a, b)));
  trace(EventKind::kNetPartition, a, b, 0, absl::StrCat(a, " and ", b, " cannot reach each other"));
}

void SimNetwork::heal(const std::string& a, const std::string& b) {
  const auto it = partitions_.find(host_pair(a, b));
  if (it == partitions_.end()) return;
  partitions_.erase(it);
  trace(EventKind::kNetHeal, a, b, 0, absl::StrCat(a, " and ", b, " can reach each other again"));
  // What waited is delivered now, in order, as TCP retransmission would.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, pair] : connections_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (std::uint64_t id : ids) {
    Pair& pair = *connections_.at(id);
    const auto key = std::minmax(pair.side[0]->host(), pair.side[1]->host());
    if (key != std::minmax(a, b) || pair.held.empty()) continue;
    const absl::Duration latency = link(a, b).latency;
    for (auto& [to, data] : pair.held) {
      if (data) {
        scheduler_.schedule(latency, [this, id, to = to, d = std::move(*data)]() mutable { deliver(id, to, std::move(d)); });
      } else {
        scheduler_.schedule(latency, [this, id, to = to] { deliver_close(id, to); });
      }
    }
    pair.held.clear();
  }
}

}  // namespace smtplab::sim
