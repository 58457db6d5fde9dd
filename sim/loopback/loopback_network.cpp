#include "sim/loopback/loopback_network.hpp"

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::sim {
namespace {

std::string ip_of(const std::string& endpoint) {
  std::string ip = endpoint.substr(0, endpoint.rfind(':'));
  if (ip.size() > 1 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

// What a server end on real sockets tells the wire observer (`--pcap` on
// serve): its own bytes as it sends them, its FIN when it closes.
struct WireTap {
  WireObserver* wire = nullptr;
  const Clock* clock = nullptr;
  std::uint64_t connection = 0;
  bool fin_sent = false;
  void sent(std::string_view bytes) {
    if (wire != nullptr && !bytes.empty()) wire->on_bytes(clock->now(), connection, WireSide::kServer, bytes);
  }
  void closing() {
    if (wire == nullptr || fin_sent) return;
    fin_sent = true;
    wire->on_close(clock->now(), connection, WireSide::kServer);
  }
};

// Shows a connection with the world's addresses instead of 127.0.0.x.
class TranslatedConnection final : public Connection {
 public:
  TranslatedConnection(Connection& inner, std::string peer, std::string local, WireTap* tap)
      : inner_(inner), peer_(std::move(peer)), local_(std::move(local)), tap_(tap) {}
  void send(std::string_view bytes) override {
    if (tap_ != nullptr) tap_->sent(bytes);
    inner_.send(bytes);
  }
  void close() override {
    if (tap_ != nullptr) tap_->closing();
    inner_.close();
  }
  void set_timeout(absl::Duration t) override { inner_.set_timeout(t); }
  void set_timeout_clock(TimeoutClock c) override { inner_.set_timeout_clock(c); }
  void extend_timeout(absl::Duration credit) override { inner_.extend_timeout(credit); }
  Waker waker() override { return inner_.waker(); }
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }
  std::uint64_t id() const override { return inner_.id(); }

 private:
  Connection& inner_;
  std::string peer_, local_;
  WireTap* tap_;
};

class TranslatingHandler : public ConnectionHandler {
 public:
  TranslatingHandler(std::unique_ptr<ConnectionHandler> inner, const LoopbackNetwork& net)
      : inner_(std::move(inner)), net_(net) {}
  void on_open(Connection& c) override {
    translated_.emplace(c, net_.to_world(c.peer_address()), net_.to_world(c.local_address()), tap());
    inner_->on_open(*translated_);
  }
  void on_bytes(std::string_view b) override { inner_->on_bytes(b); }
  void on_timeout() override { inner_->on_timeout(); }
  void on_closed(std::string_view why) override { inner_->on_closed(why); }

 protected:
  virtual WireTap* tap() { return nullptr; }
  std::unique_ptr<ConnectionHandler> inner_;
  const LoopbackNetwork& net_;
  std::optional<TranslatedConnection> translated_;
};

// What a down host's listener does with a connection: closes it at once.
class ClosingHandler final : public ConnectionHandler {
 public:
  void on_open(Connection& c) override { c.close(); }
  void on_bytes(std::string_view) override {}
  void on_timeout() override {}
  void on_closed(std::string_view) override {}
};

}  // namespace

// The server's end of an accepted connection: the one place that sees every
// connection to a world host, from an agent or from swaks, so it is where
// conn.open and conn.close are recorded (with the server side's id, which is
// the id the server's SMTP events carry). The runtime calls on_closed for
// every opened connection while it runs; a runtime torn down with
// connections open calls nothing, and the network may be gone by then.
class LoopbackNetwork::ServerSide final : public TranslatingHandler {
 public:
  ServerSide(std::unique_ptr<ConnectionHandler> inner, LoopbackNetwork& net, std::string client, std::string server,
             std::uint64_t id)
      : TranslatingHandler(std::move(inner), net),
        net_(net),
        client_(std::move(client)),
        server_(std::move(server)),
        id_(id) {
    tap_.wire = net.wire_;
    tap_.clock = &net.runtime_.clock();
    tap_.connection = id;
  }
  // The wire hears of each thing before the trace does (capture/packet_comments.hpp).
  void on_open(Connection& c) override {
    open_ = true;
    if (tap_.wire != nullptr) {
      tap_.wire->on_connect(tap_.clock->now(), id_, net_.to_world(c.peer_address()), net_.to_world(c.local_address()));
    }
    net_.opened(id_, client_, server_, &c);
    TranslatingHandler::on_open(c);
  }
  void on_bytes(std::string_view b) override {
    if (tap_.wire != nullptr) tap_.wire->on_bytes(tap_.clock->now(), id_, WireSide::kClient, b);
    TranslatingHandler::on_bytes(b);
  }
  void on_closed(std::string_view why) override {
    if (tap_.wire != nullptr && open_) {
      // The runtime's reasons: "closed by peer" (its FIN), "closed" (ours,
      // also after a timeout), or the socket's error (a reset).
      if (why == "closed by peer") {
        tap_.wire->on_close(tap_.clock->now(), id_, WireSide::kClient);
      } else if (why == "closed" || why == "timeout") {
        tap_.closing();
      } else {
        tap_.wire->on_reset(tap_.clock->now(), id_);
      }
    }
    if (open_) {
      open_ = false;
      net_.closed(id_, why);
    }
    TranslatingHandler::on_closed(why);
  }

 private:
  WireTap* tap() override { return &tap_; }
  LoopbackNetwork& net_;
  std::string client_, server_;
  std::uint64_t id_;
  bool open_ = false;
  WireTap tap_;
};

void LoopbackNetwork::record(EventKind kind, const std::string& host, const std::string& peer,
                             std::uint64_t connection, std::string text) {
  record_link_event(trace_, kind, "net", host, peer, connection, std::move(text));
}

absl::Status LoopbackNetwork::add_host(const std::string& name, const std::string& address) {
  if (address_of_host_.count(name) || host_of_address_.count(address)) {
    return absl::AlreadyExistsError(absl::StrCat("host ", name, " or address ", address, " already exists"));
  }
  if (next_octet_ > 254) return absl::ResourceExhaustedError("out of 127.0.0.x addresses");
  const std::string real = absl::StrCat("127.0.0.", next_octet_++);
  address_of_host_[name] = address;
  host_of_address_[address] = name;
  real_of_world_[address] = real;
  world_of_real_[real] = address;
  return absl::OkStatus();
}

std::string LoopbackNetwork::address_of(const std::string& host) const {
  auto it = address_of_host_.find(host);
  return it == address_of_host_.end() ? std::string() : it->second;
}

std::string LoopbackNetwork::to_world(const std::string& real_endpoint) const {
  const auto colon = real_endpoint.rfind(':');
  auto it = world_of_real_.find(real_endpoint.substr(0, colon));
  if (it == world_of_real_.end()) return real_endpoint;
  // A listener's port reads as the world's (10025 -> 25); a client's
  // ephemeral port has no world counterpart and stays as it is.
  int port = 0;
  if (colon != std::string::npos && absl::SimpleAtoi(real_endpoint.substr(colon + 1), &port)) {
    if (auto w = world_port_of_real_.find({it->second, port}); w != world_port_of_real_.end()) {
      return absl::StrCat(it->second, ":", w->second);
    }
  }
  return it->second + real_endpoint.substr(colon);
}

std::string LoopbackNetwork::host_of_endpoint(const std::string& world_endpoint) const {
  const std::string ip = ip_of(world_endpoint);
  auto h = host_of_address_.find(ip);
  return h == host_of_address_.end() ? ip : h->second;
}

absl::Status LoopbackNetwork::listen(const std::string& host, int port, HandlerFactory factory) {
  auto a = address_of_host_.find(host);
  if (a == address_of_host_.end()) return absl::NotFoundError(absl::StrCat("no host ", host));
  const std::string world = a->second;
  const int real_port = settings_.port_offset == 0 ? 0 : port + settings_.port_offset;
  auto bound = runtime_.listen(
      real_of_world_.at(world), real_port, [this, factory, host](const ConnectionInfo& real) -> std::unique_ptr<ConnectionHandler> {
        ConnectionInfo info = real;
        info.peer_address = to_world(real.peer_address);
        info.local_address = to_world(real.local_address);
        info.peer_host = host_of_endpoint(info.peer_address);
        if (down_.count(host)) {
          record(EventKind::kConnRefused, info.peer_host, host, info.connection_id,
                 absl::StrCat(host, " is down: the connection from ", info.peer_address, " is closed at once"));
          return std::make_unique<ClosingHandler>();
        }
        return std::make_unique<ServerSide>(factory(info), *this, info.peer_host, host, info.connection_id);
      });
  if (!bound.ok()) {
    return absl::Status(bound.status().code(),
                        absl::StrCat(host, " port ", port, " (", real_of_world_.at(world), ":", real_port,
                                     "): ", bound.status().message()));
  }
  ports_[{world, port}] = *bound;
  world_port_of_real_[{world, *bound}] = port;
  return absl::OkStatus();
}

void LoopbackNetwork::opened(std::uint64_t id, const std::string& client, const std::string& server,
                             Connection* server_side) {
  open_[id] = OpenConnection{client, server, server_side};
  record(EventKind::kConnOpen, client, server, id,
         absl::StrCat(to_world(server_side->peer_address()), " -> ", to_world(server_side->local_address())));
}

void LoopbackNetwork::closed(std::uint64_t id, std::string_view why) {
  auto it = open_.find(id);
  if (it == open_.end()) return;
  const OpenConnection c = it->second;
  open_.erase(it);
  if (absl::StrContains(av(why), "reset")) {
    record(EventKind::kConnReset, c.client, c.server, id, std::string(why));
  } else {
    record(EventKind::kConnClose, c.client, c.server, id, "connection closed");
  }
}

bool LoopbackNetwork::reachable(const std::string& a, const std::string& b) const {
  return !down_.count(a) && !down_.count(b) && !partitions_.count(std::minmax(a, b));
}

void LoopbackNetwork::fail_later(std::unique_ptr<ConnectionHandler> handler, absl::Duration after, std::string why,
                                 EventKind kind, const std::string& from_host, const std::string& to_host) {
  record(kind, from_host, to_host, 0, why);
  auto owned = std::make_shared<std::unique_ptr<ConnectionHandler>>(std::move(handler));
  runtime_.clock().schedule(after, [owned, why] { (*owned)->on_closed(why); });
}

void LoopbackNetwork::connect(const std::string& from_host, const std::string& address, int port,
                              std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) {
  const std::string target = absl::StrCat(address, ":", port);
  const std::string to_host = host_of_endpoint(target);
  if (!reachable(from_host, to_host)) {
    // As in SimNetwork: SYNs into the void, until the connect timeout.
    fail_later(std::move(handler), timeout, absl::StrCat("connection to ", target, " timed out"), EventKind::kConnTimeout,
               from_host, to_host);
    return;
  }
  auto it = ports_.find({address, port});
  auto real = real_of_world_.find(address);
  if (it == ports_.end() || real == real_of_world_.end()) {
    // Nothing listens there: as the kernel would, refuse (after the event loop turns).
    fail_later(std::move(handler), absl::ZeroDuration(), absl::StrCat("connection to ", target, " refused"),
               EventKind::kConnRefused, from_host, to_host);
    return;
  }
  auto from = address_of_host_.find(from_host);
  const std::string source = from == address_of_host_.end() ? std::string() : real_of_world_.at(from->second);
  runtime_.connect(real->second, it->second, std::make_unique<TranslatingHandler>(std::move(handler), *this), timeout,
                   source);
}

void LoopbackNetwork::set_host_up(const std::string& host, bool up) {
  if (up == !down_.count(host)) return;
  if (up) {
    down_.erase(host);
    record(EventKind::kHostUp, host, "", 0, absl::StrCat(host, " is up"));
    return;
  }
  down_.insert(host);
  record(EventKind::kHostDown, host, "", 0, absl::StrCat(host, " went down"));
  std::vector<Connection*> to_close;
  for (const auto& [id, c] : open_) {
    if (c.client == host || c.server == host) to_close.push_back(c.server_side);
  }
  for (Connection* c : to_close) c->close();
}

void LoopbackNetwork::partition(const std::string& a, const std::string& b) {
  partitions_.insert(std::minmax(a, b));
  record(EventKind::kNetPartition, a, b, 0, absl::StrCat(a, " and ", b, " cannot reach each other"));
}

void LoopbackNetwork::heal(const std::string& a, const std::string& b) {
  if (!partitions_.erase(std::minmax(a, b))) return;
  record(EventKind::kNetHeal, a, b, 0, absl::StrCat(a, " and ", b, " can reach each other again"));
}

std::pair<std::string, int> LoopbackNetwork::real_endpoint(const std::string& host, int port) const {
  auto a = address_of_host_.find(host);
  if (a == address_of_host_.end()) return {"", 0};
  auto p = ports_.find({a->second, port});
  return {real_of_world_.at(a->second), p == ports_.end() ? 0 : p->second};
}

std::map<std::pair<std::string, int>, std::string> LoopbackNetwork::listeners() const {
  std::map<std::pair<std::string, int>, std::string> out;
  for (const auto& [key, real_port] : ports_) {
    out[{host_of_address_.at(key.first), key.second}] = absl::StrCat(real_of_world_.at(key.first), ":", real_port);
  }
  return out;
}

}  // namespace smtplab::sim
