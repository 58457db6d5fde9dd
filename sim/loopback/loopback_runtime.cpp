#include "sim/loopback/loopback_runtime.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace smtplab::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& e) {
  const auto address = e.address();
  return address.is_v6() ? absl::StrCat("[", address.to_string(), "]:", e.port())
                         : absl::StrCat(address.to_string(), ":", e.port());
}

std::chrono::steady_clock::duration to_chrono(absl::Duration d) { return absl::ToChronoMicroseconds(d); }

std::uint64_t next_connection_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}

// One TCP connection driven by its handler. Reads, writes, the idle timer and
// the handler's callbacks all happen on the connection's strand.
//
// The idle timeout is one timer per connection that is re-armed only when it
// fires early, not a timer per read or write (as beast::tcp_stream has): that
// one cost 13 timerfd_settime calls in a 7-round-trip SMTP session, a third
// of the system calls a short session makes (measured with strace -c under
// smtp-source; see bench/).
class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
 public:
  // `runtime_open` turns false when the runtime starts to go away: from then
  // on wakers drop their tasks instead of posting into a dying io_context.
  TcpConnection(tcp::socket socket, std::unique_ptr<ConnectionHandler> handler, const ListenerSettings& settings,
                std::function<void()> on_finish, std::string peer, std::string local, std::uint64_t id,
                std::shared_ptr<const std::atomic<bool>> runtime_open)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        handler_(std::move(handler)),
        max_pending_(settings.max_pending_output),
        timeout_(to_chrono(settings.initial_timeout)),
        on_finish_(std::move(on_finish)),
        peer_(std::move(peer)),
        local_(std::move(local)),
        id_(id),
        runtime_open_(std::move(runtime_open)) {}

  void start() {
    last_activity_ = Clock::now();
    wait_for_deadline(last_activity_ + timeout_);
    handler_->on_open(*this);
    after_callback();
  }

  void send(std::string_view bytes) override {
    if (!finished_) pending_.append(bytes);
  }
  void close() override { close_requested_ = true; }
  void set_timeout(absl::Duration timeout) override {
    timeout_ = to_chrono(timeout);
    // A shorter timeout must not wait for the longer deadline already set.
    if (!finished_ && last_activity_ + timeout_ < deadline_) wait_for_deadline(last_activity_ + timeout_);
  }
  void set_timeout_clock(TimeoutClock clock) override { clock_ = clock; }
  void extend_timeout(absl::Duration credit) override {
    if (clock_ != TimeoutClock::kPerRequest) return;
    // The deadline is last_activity_ + timeout_: moving the start on, but
    // not past now, adds time without ever leaving more than a timeout.
    last_activity_ = std::min(last_activity_ + std::chrono::duration_cast<Clock::duration>(to_chrono(credit)),
                              Clock::now());
  }
  Waker waker() override {
    return [weak = weak_from_this(), executor = socket_.get_executor(),
            open = runtime_open_](std::function<void()> task) {
      if (!open->load()) return;
      asio::post(executor, [weak, task = std::move(task)] {
        const auto self = weak.lock();
        if (!self || self->finished_) return;
        task();
        self->after_callback();
      });
    };
  }
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }
  std::uint64_t id() const override { return id_; }

 private:
  using Clock = std::chrono::steady_clock;

  void after_callback() {
    if (finished_) return;
    flush();
    maybe_read();
  }

  void wait_for_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    timer_.expires_at(deadline);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->on_timer();
    });
  }

  void on_timer() {
    if (finished_) return;
    if (timed_out_) {  // the grace period after on_timeout() ran out too
      finish("timeout");
      return;
    }
    const auto deadline = last_activity_ + timeout_;
    if (Clock::now() < deadline) {
      wait_for_deadline(deadline);
      return;
    }
    timed_out_ = true;
    handler_->on_timeout();
    close_requested_ = true;
    after_callback();
    // Give a last reply (such as 421) a little time to go out, then close.
    if (!finished_) wait_for_deadline(Clock::now() + std::chrono::seconds(10));
  }

  void maybe_read() {
    if (reading_ || close_requested_ || finished_) return;
    if (pending_.size() + inflight_.size() > max_pending_) return;  // resumes after the write
    reading_ = true;
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    reading_ = false;
    if (finished_) return;
    if (ec) {
      finish(ec == asio::error::eof ? "closed by peer" : ec.message());
      return;
    }
    if (clock_ == TimeoutClock::kIdle) last_activity_ = Clock::now();
    handler_->on_bytes(std::string_view(buffer_.data(), n));
    after_callback();
  }

  void flush() {
    if (writing_ || finished_) return;
    if (pending_.empty()) {
      if (close_requested_) finish("closed");
      return;
    }
    inflight_.swap(pending_);
    pending_.clear();
    writing_ = true;
    asio::async_write(socket_, asio::buffer(inflight_),
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(beast::error_code ec) {
    writing_ = false;
    inflight_.clear();
    if (finished_) return;
    if (ec) {
      finish(ec.message());
      return;
    }
    last_activity_ = Clock::now();
    flush();
    maybe_read();
  }

  void finish(std::string why) {
    if (finished_) return;
    finished_ = true;
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    std::unique_ptr<ConnectionHandler> handler = std::move(handler_);
    handler->on_closed(why);
    on_finish_();
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::size_t max_pending_;
  Clock::duration timeout_;
  std::function<void()> on_finish_;
  std::string peer_;
  std::string local_;
  std::uint64_t id_;
  std::shared_ptr<const std::atomic<bool>> runtime_open_;
  TimeoutClock clock_ = TimeoutClock::kIdle;
  Clock::time_point last_activity_;  // what the timeout counts from
  Clock::time_point deadline_;
  std::array<char, 16 * 1024> buffer_;  // not zeroed: read_some fills what it reports
  std::string pending_;
  std::string inflight_;
  bool reading_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

// Timers on the io_context, in scaled real time.
class RealTimeClock final : public Clock {
 public:
  explicit RealTimeClock(asio::io_context& io) : io_(io), start_(std::chrono::steady_clock::now()) {}
  absl::Duration now() const override {
    const auto elapsed = std::chrono::steady_clock::now() - start_;
    return absl::FromChrono(elapsed) * scale_;
  }
  absl::Time epoch() const override { return epoch_; }
  TimerId schedule(absl::Duration delay, std::function<void()> callback) override {
    const TimerId id = next_id_++;
    auto timer = std::make_shared<asio::steady_timer>(io_);
    timer->expires_after(to_chrono(delay / scale_));
    timers_[id] = timer;
    timer->async_wait([this, id, timer, callback = std::move(callback)](beast::error_code ec) {
      // A timer that expired just before cancel() still runs its handler
      // without an error; cancel() removed it from the map, so check that.
      if (ec || timers_.erase(id) == 0) return;
      callback();
    });
    return id;
  }
  bool cancel(TimerId id) override {
    auto it = timers_.find(id);
    if (it == timers_.end()) return false;
    it->second->cancel();
    timers_.erase(it);
    return true;
  }
  void set_scale(double scale) { scale_ = scale > 0 ? scale : 1; }

 private:
  asio::io_context& io_;
  std::chrono::steady_clock::time_point start_;
  absl::Time epoch_ = absl::Now();
  double scale_ = 1;
  TimerId next_id_ = 1;
  std::map<TimerId, std::shared_ptr<asio::steady_timer>> timers_;
};

struct LoopbackRuntime::Impl {
  explicit Impl(int n) : io(n), threads(n), clock(io) {}
  // False from the start of ~LoopbackRuntime (see TcpConnection).
  std::shared_ptr<std::atomic<bool>> open = std::make_shared<std::atomic<bool>>(true);
  asio::io_context io;
  int threads;
  RealTimeClock clock;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;

  // `active` counts this listener's open connections (for connection limits).
  using Counter = std::shared_ptr<std::atomic<std::size_t>>;
  void accept(std::shared_ptr<tcp::acceptor> acceptor, HandlerFactory factory, ListenerSettings settings,
              Counter active, std::string local) {
    // accept() reports the peer's address, and the local one is the
    // listener's: no getpeername/getsockname per connection.
    auto peer = std::make_shared<tcp::endpoint>();
    acceptor->async_accept(
        asio::make_strand(io), *peer,
        [this, acceptor, factory, settings, active, peer, local](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (ec) {
            // Out of file descriptors and the like: pause instead of spinning.
            auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
            timer->async_wait([this, timer, acceptor, factory, settings, active, local](beast::error_code) {
              accept(acceptor, factory, settings, active, local);
            });
            return;
          }
          // TCP_NODELAY comes from the listening socket (Linux copies it to
          // accepted sockets), so no setsockopt here.
          ConnectionInfo info;
          info.peer_address = endpoint_text(*peer);
          info.local_address = local;
          info.active_connections = ++*active;
          info.connection_id = next_connection_id();
          auto executor = socket.get_executor();
          auto handler = factory(info);
          auto connection =
              std::make_shared<TcpConnection>(std::move(socket), std::move(handler), settings,
                                              [counter = active] { --*counter; }, info.peer_address,
                                              info.local_address, info.connection_id, open);
          asio::dispatch(executor, [connection] { connection->start(); });
          accept(acceptor, factory, settings, active, local);
        });
  }
};

LoopbackRuntime::LoopbackRuntime(int threads) : impl_(std::make_unique<Impl>(threads < 1 ? 1 : threads)) {}
LoopbackRuntime::~LoopbackRuntime() { impl_->open->store(false); }

absl::StatusOr<int> LoopbackRuntime::listen(const std::string& host, int port, HandlerFactory factory,
                                            ListenerSettings settings) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", host));
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->io);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->set_option(tcp::no_delay(true), ec);  // inherited by accepted sockets
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  const int bound = acceptor->local_endpoint().port();
  impl_->acceptors.push_back(acceptor);
  impl_->accept(acceptor, std::move(factory), settings, std::make_shared<std::atomic<std::size_t>>(0),
                endpoint_text(acceptor->local_endpoint()));
  return bound;
}

boost::asio::io_context& io_context_of(LoopbackRuntime& runtime) { return runtime.impl_->io; }

Clock& LoopbackRuntime::clock() { return impl_->clock; }
void LoopbackRuntime::set_time_scale(double scale) { impl_->clock.set_scale(scale); }

void LoopbackRuntime::connect(const std::string& host, int port, std::unique_ptr<ConnectionHandler> handler,
                              absl::Duration connect_timeout, const std::string& source_address) {
  auto stream = std::make_shared<beast::tcp_stream>(asio::make_strand(impl_->io));
  if (!source_address.empty()) {
    beast::error_code ec;
    const auto local = asio::ip::make_address(source_address, ec);
    if (!ec) stream->socket().open(local.is_v6() ? tcp::v6() : tcp::v4(), ec);
    if (!ec) stream->socket().bind(tcp::endpoint(local, 0), ec);
    if (ec) {
      auto owned = std::make_shared<std::unique_ptr<ConnectionHandler>>(std::move(handler));
      asio::post(impl_->io, [owned, why = ec.message()] { (*owned)->on_closed("cannot bind: " + why); });
      return;
    }
  }
  auto owned = std::make_shared<std::unique_ptr<ConnectionHandler>>(std::move(handler));
  auto on_connected = [stream, owned, open = impl_->open](beast::error_code ec) {
    if (ec) {
      (*owned)->on_closed(absl::StrCat("cannot connect: ", ec.message()));
      return;
    }
    // Beast's tcp_stream bounds the connect; the connection then runs on
    // the plain socket with its own idle timer.
    stream->expires_never();
    beast::error_code ignored;
    stream->socket().set_option(tcp::no_delay(true), ignored);
    std::string peer = endpoint_text(stream->socket().remote_endpoint(ignored));
    std::string local = endpoint_text(stream->socket().local_endpoint(ignored));
    auto connection = std::make_shared<TcpConnection>(stream->release_socket(), std::move(*owned), ListenerSettings{},
                                                      [] {}, std::move(peer), std::move(local), next_connection_id(),
                                                      open);
    connection->start();
  };
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    // A numeric address: connect directly, keeping any source binding (a
    // range connect would reopen the socket and lose it).
    stream->expires_after(to_chrono(connect_timeout));
    stream->async_connect(tcp::endpoint(address, static_cast<unsigned short>(port)), on_connected);
    return;
  }
  auto resolver = std::make_shared<tcp::resolver>(impl_->io);
  resolver->async_resolve(host, std::to_string(port),
                          [stream, resolver, owned, connect_timeout, on_connected](
                              beast::error_code ec, tcp::resolver::results_type results) {
                            if (ec) {
                              (*owned)->on_closed(absl::StrCat("cannot resolve: ", ec.message()));
                              return;
                            }
                            stream->expires_after(to_chrono(connect_timeout));
                            stream->async_connect(results, [on_connected](beast::error_code ec, const tcp::endpoint&) {
                              on_connected(ec);
                            });
                          });
}

void LoopbackRuntime::run(bool until_idle) {
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  if (!until_idle) work.emplace(impl_->io.get_executor());
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->threads; ++i) extra.emplace_back([this] { impl_->io.run(); });
  impl_->io.run();
  for (auto& t : extra) t.join();
  impl_->io.restart();
}

bool LoopbackRuntime::run_until(const std::function<bool()>& done, absl::Duration limit, absl::Duration grace) {
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + to_chrono(limit);
  std::optional<SteadyClock::time_point> done_at;
  bool timed_out = false;
  asio::steady_timer timer(impl_->io);
  std::function<void()> check = [&] {
    const auto now = SteadyClock::now();
    if (!done_at && done()) done_at = now;
    if (done_at ? now - *done_at >= to_chrono(grace) : now > deadline) {
      timed_out = !done_at;
      impl_->io.stop();  // not stop(): the listeners stay open for the next run
      return;
    }
    timer.expires_after(std::chrono::milliseconds(5));
    timer.async_wait([&](beast::error_code ec) {
      if (!ec) check();
    });
  };
  asio::post(impl_->io, check);
  run(false);
  return !timed_out;
}

void LoopbackRuntime::run_until_signal() {
  asio::signal_set signals(impl_->io, SIGINT, SIGTERM);
  signals.async_wait([this](beast::error_code, int) { stop(); });
  run(false);
}

void LoopbackRuntime::stop() {
  for (auto& a : impl_->acceptors) {
    asio::post(a->get_executor(), [a] {
      beast::error_code ignored;
      a->close(ignored);
    });
  }
  impl_->io.stop();
}

absl::Status split_host_port(const std::string& text, std::string& host, int& port) {
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("expected [IPv6]:PORT, got \"", text, "\""));
    }
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return absl::InvalidArgumentError(absl::StrCat("expected HOST:PORT, got \"", text, "\""));
    }
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in \"", text, "\""));
  }
  return absl::OkStatus();
}

}  // namespace smtplab::sim
