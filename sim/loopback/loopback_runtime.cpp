#include "sim/loopback/loopback_runtime.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
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

// One TCP connection driven by its handler. Reads, writes and the handler's
// callbacks all happen on the connection's strand.
class TcpConnection final : public Connection, public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(beast::tcp_stream stream, std::unique_ptr<ConnectionHandler> handler,
                const ListenerSettings& settings, std::function<void()> on_finish)
      : stream_(std::move(stream)),
        handler_(std::move(handler)),
        max_pending_(settings.max_pending_output),
        timeout_(settings.initial_timeout),
        on_finish_(std::move(on_finish)) {
    beast::error_code ec;
    peer_ = endpoint_text(stream_.socket().remote_endpoint(ec));
    local_ = endpoint_text(stream_.socket().local_endpoint(ec));
  }

  void start() {
    handler_->on_open(*this);
    after_callback();
  }

  void send(std::string_view bytes) override {
    if (!finished_) pending_.append(bytes);
  }
  void close() override { close_requested_ = true; }
  void set_timeout(absl::Duration timeout) override { timeout_ = timeout; }
  std::string peer_address() const override { return peer_; }
  std::string local_address() const override { return local_; }

 private:
  void after_callback() {
    if (finished_) return;
    flush();
    maybe_read();
  }

  void maybe_read() {
    if (reading_ || close_requested_ || finished_) return;
    if (pending_.size() + inflight_.size() > max_pending_) return;  // resumes after the write
    reading_ = true;
    stream_.expires_after(to_chrono(timeout_));
    stream_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(beast::error_code ec, std::size_t n) {
    reading_ = false;
    if (finished_) return;
    if (ec == beast::error::timeout) {
      // Beast has closed the socket already; the handler learns why.
      handler_->on_timeout();
      finish("timeout");
      return;
    }
    if (ec) {
      finish(ec == asio::error::eof ? "closed by peer" : ec.message());
      return;
    }
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
    stream_.expires_after(to_chrono(timeout_));
    asio::async_write(stream_, asio::buffer(inflight_),
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
    flush();
    maybe_read();
  }

  void finish(std::string why) {
    if (finished_) return;
    finished_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    std::unique_ptr<ConnectionHandler> handler = std::move(handler_);
    handler->on_closed(why);
    on_finish_();
  }

  beast::tcp_stream stream_;
  std::unique_ptr<ConnectionHandler> handler_;
  std::size_t max_pending_;
  absl::Duration timeout_;
  std::function<void()> on_finish_;
  std::string peer_;
  std::string local_;
  std::array<char, 64 * 1024> buffer_{};
  std::string pending_;
  std::string inflight_;
  bool reading_ = false;
  bool writing_ = false;
  bool close_requested_ = false;
  bool finished_ = false;
};

}  // namespace

struct LoopbackRuntime::Impl {
  explicit Impl(int n) : io(n), threads(n) {}
  asio::io_context io;
  int threads;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;

  // `active` counts this listener's open connections (for connection limits).
  using Counter = std::shared_ptr<std::atomic<std::size_t>>;
  void accept(std::shared_ptr<tcp::acceptor> acceptor, HandlerFactory factory, ListenerSettings settings,
              Counter active) {
    acceptor->async_accept(
        asio::make_strand(io), [this, acceptor, factory, settings, active](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (ec) {
            // Out of file descriptors and the like: pause instead of spinning.
            auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
            timer->async_wait([this, timer, acceptor, factory, settings, active](beast::error_code) {
              accept(acceptor, factory, settings, active);
            });
            return;
          }
          beast::error_code ignored;
          socket.set_option(tcp::no_delay(true), ignored);
          ConnectionInfo info;
          info.peer_address = endpoint_text(socket.remote_endpoint(ignored));
          info.local_address = endpoint_text(socket.local_endpoint(ignored));
          info.active_connections = ++*active;
          auto executor = socket.get_executor();
          auto connection = std::make_shared<TcpConnection>(beast::tcp_stream(std::move(socket)), factory(info),
                                                            settings, [counter = active] { --*counter; });
          asio::dispatch(executor, [connection] { connection->start(); });
          accept(acceptor, factory, settings, active);
        });
  }
};

LoopbackRuntime::LoopbackRuntime(int threads) : impl_(std::make_unique<Impl>(threads < 1 ? 1 : threads)) {}
LoopbackRuntime::~LoopbackRuntime() = default;

absl::StatusOr<int> LoopbackRuntime::listen(const std::string& host, int port, HandlerFactory factory,
                                            ListenerSettings settings) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", host));
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->io);
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", port, ": ", ec.message()));
  const int bound = acceptor->local_endpoint().port();
  impl_->acceptors.push_back(acceptor);
  impl_->accept(acceptor, std::move(factory), settings, std::make_shared<std::atomic<std::size_t>>(0));
  return bound;
}

void LoopbackRuntime::connect(const std::string& host, int port, std::unique_ptr<ConnectionHandler> handler,
                              absl::Duration connect_timeout) {
  auto stream = std::make_shared<beast::tcp_stream>(asio::make_strand(impl_->io));
  auto resolver = std::make_shared<tcp::resolver>(impl_->io);
  auto owned = std::make_shared<std::unique_ptr<ConnectionHandler>>(std::move(handler));
  resolver->async_resolve(
      host, std::to_string(port),
      [stream, resolver, owned, connect_timeout](beast::error_code ec, tcp::resolver::results_type results) {
        if (ec) {
          (*owned)->on_closed(absl::StrCat("cannot resolve: ", ec.message()));
          return;
        }
        stream->expires_after(to_chrono(connect_timeout));
        stream->async_connect(results, [stream, owned](beast::error_code ec, const tcp::endpoint&) {
          if (ec) {
            (*owned)->on_closed(absl::StrCat("cannot connect: ", ec.message()));
            return;
          }
          stream->expires_never();
          beast::error_code ignored;
          stream->socket().set_option(tcp::no_delay(true), ignored);
          auto connection =
              std::make_shared<TcpConnection>(std::move(*stream), std::move(*owned), ListenerSettings{}, [] {});
          connection->start();
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
