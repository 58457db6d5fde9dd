#include "sim/loopback/loopback_network.hpp"

#include "absl/strings/str_cat.h"

namespace smtplab::sim {
namespace {

// Shows a connection with the world's addresses instead of 127.0.0.x.
class TranslatedConnection final : public Connection {
 public:
  TranslatedConnection(Connection& inner, std::string peer, std::string local)
      : inner_(inner), peer_(std::move(peer)), local_(std::move(local)) {}
  void send(std::string_view bytes) override { inner_.send(bytes); }
  void close() override { inner_.close(); }
  void set_timeout(absl::Duration t) override { inner_.set_timeout(t); }
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }
  std::uint64_t id() const override { return inner_.id(); }

 private:
  Connection& inner_;
  std::string peer_, local_;
};

class TranslatingHandler final : public ConnectionHandler {
 public:
  TranslatingHandler(std::unique_ptr<ConnectionHandler> inner, const LoopbackNetwork& net)
      : inner_(std::move(inner)), net_(net) {}
  void on_open(Connection& c) override {
    translated_.emplace(c, net_.to_world(c.peer_address()), net_.to_world(c.local_address()));
    inner_->on_open(*translated_);
  }
  void on_bytes(std::string_view b) override { inner_->on_bytes(b); }
  void on_timeout() override { inner_->on_timeout(); }
  void on_closed(std::string_view why) override { inner_->on_closed(why); }

 private:
  std::unique_ptr<ConnectionHandler> inner_;
  const LoopbackNetwork& net_;
  std::optional<TranslatedConnection> translated_;
};

}  // namespace

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

std::string LoopbackNetwork::to_world(const std::string& real_endpoint) const {
  const auto colon = real_endpoint.rfind(':');
  auto it = world_of_real_.find(real_endpoint.substr(0, colon));
  if (it == world_of_real_.end()) return real_endpoint;
  return it->second + real_endpoint.substr(colon);
}

absl::Status LoopbackNetwork::listen(const std::string& host, int port, HandlerFactory factory) {
  auto a = address_of_host_.find(host);
  if (a == address_of_host_.end()) return absl::NotFoundError(absl::StrCat("no host ", host));
  const std::string world = a->second;
  auto bound = runtime_.listen(real_of_world_.at(world), 0, [this, factory](const ConnectionInfo& real) {
    ConnectionInfo info = real;
    info.peer_address = to_world(real.peer_address);
    info.local_address = to_world(real.local_address);
    const std::string peer_world = info.peer_address.substr(0, info.peer_address.rfind(':'));
    if (auto h = host_of_address_.find(peer_world); h != host_of_address_.end()) info.peer_host = h->second;
    return std::make_unique<TranslatingHandler>(factory(info), *this);
  });
  if (!bound.ok()) return bound.status();
  ports_[{world, port}] = *bound;
  return absl::OkStatus();
}

void LoopbackNetwork::connect(const std::string& from_host, const std::string& address, int port,
                              std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout) {
  auto it = ports_.find({address, port});
  auto real = real_of_world_.find(address);
  if (it == ports_.end() || real == real_of_world_.end()) {
    // Nothing listens there: as the kernel would, refuse (after the event loop turns).
    auto owned = std::make_shared<std::unique_ptr<ConnectionHandler>>(std::move(handler));
    runtime_.clock().schedule(absl::ZeroDuration(), [owned, address, port] {
      (*owned)->on_closed(absl::StrCat("connection to ", address, ":", port, " refused"));
    });
    return;
  }
  auto from = address_of_host_.find(from_host);
  const std::string source = from == address_of_host_.end() ? std::string() : real_of_world_.at(from->second);
  runtime_.connect(real->second, it->second, std::make_unique<TranslatingHandler>(std::move(handler), *this), timeout,
                   source);
}

std::pair<std::string, int> LoopbackNetwork::real_endpoint(const std::string& host, int port) const {
  auto a = address_of_host_.find(host);
  if (a == address_of_host_.end()) return {"", 0};
  auto p = ports_.find({a->second, port});
  return {real_of_world_.at(a->second), p == ports_.end() ? 0 : p->second};
}

}  // namespace smtplab::sim
