// In-process links in virtual time: hosts with addresses, listeners, and
// connections that carry bytes with latency and bandwidth, plus the faults a
// scenario can inject (hosts going down, partitions that heal, resets).
// Connections implement the same sim::Connection as loopback TCP, so agents
// cannot tell the difference.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/connection.hpp"
#include "sim/inprocess/link_tap.hpp"
#include "sim/network.hpp"
#include "sim/scheduler.hpp"
#include "sim/trace/trace.hpp"
#include "sim/wire_observer.hpp"

namespace smtplab::sim {

struct LinkProperties {
  absl::Duration latency = absl::Milliseconds(10);  // one way
  double bytes_per_second = 0;                      // 0: no bandwidth limit
};

class SimNetwork : public Network {
 public:
  SimNetwork(Scheduler& scheduler, Trace* trace = nullptr);
  ~SimNetwork();

  absl::Status add_host(const std::string& name, const std::string& address);
  absl::Status listen(const std::string& host, int port, HandlerFactory factory) override;
  void stop_listening(const std::string& host, int port);

  // Opens a connection from `from_host` to address:port. The handler gets
  // on_open after one round trip; or on_closed("connection refused") when
  // nothing listens there; or on_closed("connection timed out") after
  // `timeout` when the host is down or the path is partitioned.
  void connect(const std::string& from_host, const std::string& address, int port,
               std::unique_ptr<ConnectionHandler> handler, absl::Duration timeout = absl::Seconds(30)) override;

  void set_default_link(const LinkProperties& link) { default_link_ = link; }
  void set_link(const std::string& a, const std::string& b, const LinkProperties& link);

  // A host that goes down loses its connections (its peers see a reset) and
  // accepts nothing until it comes back.
  void set_host_up(const std::string& host, bool up);
  bool host_up(const std::string& host) const;
  // While two hosts are partitioned nothing crosses between them: bytes wait
  // (as TCP retransmits would) and are delivered when the partition heals.
  void partition(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);
  // Resets every open connection of `host` (both ends see "connection reset").
  void reset_connections(const std::string& host);
  // Resets one connection once it has carried `after_bytes` more bytes in
  // either direction: "the link died mid-DATA".
  void reset_connection_after(std::uint64_t connection_id, std::uint64_t after_bytes);
  // Chaos for soak tests: each new connection, with this probability, is
  // reset after a random number (1..max_bytes) of bytes. Uses the run's seed.
  void set_random_resets(double probability, std::uint64_t max_bytes) {
    reset_probability_ = probability;
    reset_max_bytes_ = max_bytes;
  }

  // Tells `observer` (null: nobody) what crosses the wire, as seen at the
  // server's end of each connection: `--pcap`.
  void set_wire_observer(WireObserver* observer) { wire_ = observer; }

  // Puts `tap` on the path between hosts a and b (both directions).
  void set_tap(const std::string& a, const std::string& b, std::shared_ptr<LinkTap> tap);

  std::string host_of_address(const std::string& address) const;
  std::string address_of(const std::string& host) const;
  std::size_t open_connections() const { return connections_.size(); }
  std::size_t connections_opened() const { return next_connection_ - 1; }

 private:
  class Endpoint;
  struct Pair;
  friend class Endpoint;

  // Keys for what holds between two hosts either way (links, partitions,
  // taps): the two names in order. Looked up by views, so the lookup on
  // every send allocates nothing.
  using HostPair = std::pair<std::string, std::string>;
  using HostPairView = std::pair<std::string_view, std::string_view>;
  struct HostPairLess {
    using is_transparent = void;
    static HostPairView view(const HostPair& p) { return {p.first, p.second}; }
    static HostPairView view(const HostPairView& p) { return p; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const { return view(a) < view(b); }
  };
  static HostPairView host_pair(std::string_view a, std::string_view b) { return b < a ? HostPairView{b, a} : HostPairView{a, b}; }
  static HostPair owned(HostPairView v) { return {std::string(v.first), std::string(v.second)}; }

  const LinkProperties& link(const std::string& a, const std::string& b) const;
  bool partitioned(const std::string& a, const std::string& b) const;
  void trace(EventKind kind, const std::string& host, const std::string& peer, std::uint64_t conn,
             std::string text);
  void deliver(std::uint64_t pair_id, int to_side, std::string bytes);
  // Delivers the oldest bytes in flight towards `to_side` (Pair::in_flight).
  void deliver_in_flight(std::uint64_t pair_id, int to_side);
  // Buffers for bytes in flight, reused so that a send allocates nothing
  // once a run is warm.
  std::string take_buffer(std::string_view bytes);
  void give_back_buffer(std::string buffer);
  void deliver_close(std::uint64_t pair_id, int to_side);
  void reset_pair(std::uint64_t pair_id, const std::string& why);
  void retire_if_done(std::uint64_t pair_id);

  // The client's end of connection `id` from `host`: the address the trace
  // and the capture show.
  std::string client_address(const std::string& host, std::uint64_t id) const;

  Scheduler& scheduler_;
  Trace* trace_;
  WireObserver* wire_ = nullptr;
  LinkProperties default_link_;
  std::map<HostPair, LinkProperties, HostPairLess> links_;
  std::map<std::string, std::string> address_to_host_;
  std::map<std::string, std::string> host_to_address_;
  std::set<std::string> down_;
  std::set<HostPair, HostPairLess> partitions_;
  std::map<HostPair, std::shared_ptr<LinkTap>, HostPairLess> taps_;
  std::vector<std::string> spare_buffers_;
  std::map<std::pair<std::string, int>, HandlerFactory> listeners_;
  std::map<std::pair<std::string, int>, std::size_t> active_per_listener_;
  absl::flat_hash_map<std::uint64_t, std::unique_ptr<Pair>> connections_;
  std::uint64_t next_connection_ = 1;
  double reset_probability_ = 0;
  std::uint64_t reset_max_bytes_ = 0;
};

}  // namespace smtplab::sim
