#include "cli/serve/live_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t kRequestLimit = 16 * 1024;
constexpr std::size_t kViewerBacklogLimit = 64u << 20;  // bytes queued for one viewer, beyond its history
constexpr std::size_t kHistoryFrame = 256 * 1024;       // the history is sent in frames of about this size
constexpr auto kHttpIdle = std::chrono::seconds(30);

class TraceViewer;

// "http://127.0.0.1:8000", "http://localhost", "http://[::1]:3000"; not
// "http://localhost.evil.example" or "http://127.evil.example".
bool loopback_origin(beast::string_view origin) {
  for (beast::string_view scheme : {"http://", "https://"}) {
    if (origin.substr(0, scheme.size()) != scheme) continue;
    beast::string_view host = origin.substr(scheme.size());
    if (host.substr(0, 5) == "[::1]") return host.size() == 5 || host[5] == ':';
    host = host.substr(0, host.find(':'));
    if (host == "localhost") return true;
    return host.substr(0, 4) == "127." && host.find_first_not_of("0123456789.") == beast::string_view::npos;
  }
  return false;
}

}  // namespace

struct LiveServer::Impl : std::enable_shared_from_this<LiveServer::Impl> {
  Impl(asio::io_context& io_context, scenarios::ScenarioWorld& w, ServeInfo i)
      : io(io_context), world(w), info(std::move(i)) {}

  asio::io_context& io;
  scenarios::ScenarioWorld& world;
  ServeInfo info;
  std::shared_ptr<tcp::acceptor> acceptor;
  // Lines recorded since the last flush; everything up to `flushed_upto`
  // (a trace sequence number) has gone to every viewer connected then.
  std::string pending;
  bool flush_posted = false;
  std::uint64_t flushed_upto = 0;
  std::uint64_t pending_upto = 0;
  std::vector<std::weak_ptr<TraceViewer>> viewers;

  void on_event(const sim::TraceEvent& e);
  void flush();
  void add_viewer(const std::shared_ptr<TraceViewer>& viewer);
  void accept();
};

namespace {

// One WebSocket client of /trace: the history first, then live frames, each
// written in turn (Beast allows one write at a time).
class TraceViewer : public std::enable_shared_from_this<TraceViewer> {
 public:
  TraceViewer(tcp::socket socket, std::weak_ptr<LiveServer::Impl> server)
      : ws_(std::move(socket)), server_(std::move(server)) {}

  void accept(http::request<http::string_body> request) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "smtplab serve"); }));
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      if (auto server = self->server_.lock()) server->add_viewer(self);
      self->read();
    });
  }

  // The history: every event flushed so far, in frames of about 256 KiB.
  void send_history(const std::vector<sim::TraceEvent>& events, std::uint64_t upto) {
    std::string frame;
    std::size_t total = 0;
    for (const auto& e : events) {
      if (e.sequence > upto) break;
      absl::StrAppend(&frame, sim::to_json_line(e), "\n");
      if (frame.size() >= kHistoryFrame) {
        total += frame.size();
        send(std::make_shared<const std::string>(std::move(frame)));
        frame.clear();
      }
    }
    total += frame.size();
    if (!frame.empty()) send(std::make_shared<const std::string>(std::move(frame)));
    limit_ = total + kViewerBacklogLimit;
  }

  void send(std::shared_ptr<const std::string> frame) {
    if (closed_) return;
    if (queued_bytes_ + frame->size() > limit_) {
      // Too far behind: drop this viewer rather than grow without bound.
      closed_ = true;
      queue_.clear();
      beast::error_code ignored;
      beast::get_lowest_layer(ws_).socket().close(ignored);
      return;
    }
    queued_bytes_ += frame->size();
    queue_.push_back(std::move(frame));
    if (!writing_) write_next();
  }

  bool closed() const { return closed_; }

 private:
  void write_next() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (!self->queue_.empty()) {
        self->queued_bytes_ -= self->queue_.front()->size();
        self->queue_.pop_front();
      }
      if (ec) {
        self->closed_ = true;
        self->writing_ = false;
        return;
      }
      self->write_next();
    });
  }

  // Viewers send nothing we use, but reading answers pings and sees the close.
  void read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {
        self->closed_ = true;
        return;
      }
      self->in_.consume(n);
      self->read();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::weak_ptr<LiveServer::Impl> server_;
  beast::flat_buffer in_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t limit_ = kViewerBacklogLimit;
  bool writing_ = false;
  bool closed_ = false;
};

// One HTTP connection: requests answered in turn (keep-alive), or handed
// over to a TraceViewer when it asks for a WebSocket on /trace.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, std::weak_ptr<LiveServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  void read() {
    parser_.emplace();
    parser_->header_limit(kRequestLimit);
    parser_->body_limit(kRequestLimit);
    stream_.expires_after(kHttpIdle);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
        ec == asio::error::connection_reset || ec == asio::error::eof) {
      close();
      return;
    }
    if (ec) {  // not HTTP, or over the limits: say so, then hang up
      write(error_answer(400, absl::StrCat("bad request: ", ec.message())), 11, false);
      return;
    }
    http::request<http::string_body> request = parser_->release();
    auto server = server_.lock();
    if (!server) return close();
    const std::string target(request.target());
    if (websocket::is_upgrade(request)) {
      if (target != "/trace" && target != "/") {
        write(error_answer(404, "the trace WebSocket is at /trace"), request.version(), false);
        return;
      }
      // Browsers let any page open a WebSocket to 127.0.0.1 and send its
      // Origin; only pages served from loopback may watch (RFC 6455 10.2).
      // Tools (smtplab-viz, websocat) send no Origin.
      if (const auto origin = request[http::field::origin]; !origin.empty() && !loopback_origin(origin)) {
        write(error_answer(403, "the trace is for pages on 127.0.0.1 or localhost only"), request.version(), false);
        return;
      }
      stream_.expires_never();
      auto viewer = std::make_shared<TraceViewer>(stream_.release_socket(), server_);
      viewer->accept(std::move(request));
      return;
    }
    write(answer_api(server->world, server->info, std::string(request.method_string()), target), request.version(),
          request.keep_alive());
  }

  void write(const HttpAnswer& answer, unsigned version, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(answer.status), version);
    res->set(http::field::server, "smtplab serve");
    res->set(http::field::content_type, answer.content_type);
    if (answer.status == 405) res->set(http::field::allow, "GET");  // RFC 9110 15.5.6
    res->keep_alive(keep_alive);
    res->body() = answer.body;
    res->prepare_payload();
    stream_.expires_after(kHttpIdle);
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec || !res->keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  std::weak_ptr<LiveServer::Impl> server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

void LiveServer::Impl::on_event(const sim::TraceEvent& e) {
  if (viewers.empty() && pending.empty()) {
    // Nobody to send it to: it counts as sent; a viewer that connects
    // later gets it with the history, read from the trace itself.
    flushed_upto = pending_upto = e.sequence;
    return;
  }
  absl::StrAppend(&pending, sim::to_json_line(e), "\n");
  pending_upto = e.sequence;
  if (flush_posted) return;
  flush_posted = true;
  // One frame per turn of the event loop: a burst of SMTP lines goes out together.
  asio::post(io, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->flush();
  });
}

void LiveServer::Impl::flush() {
  flush_posted = false;
  flushed_upto = pending_upto;
  if (pending.empty()) return;
  auto frame = std::make_shared<const std::string>(std::move(pending));
  pending.clear();
  std::vector<std::weak_ptr<TraceViewer>> still;
  for (auto& weak : viewers) {
    auto viewer = weak.lock();
    if (!viewer || viewer->closed()) continue;
    viewer->send(frame);
    still.push_back(viewer);
  }
  viewers = std::move(still);
}

void LiveServer::Impl::add_viewer(const std::shared_ptr<TraceViewer>& viewer) {
  viewer->send_history(world.trace.events(), flushed_upto);
  viewers.push_back(viewer);
}

void LiveServer::Impl::accept() {
  acceptor->async_accept(io, [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor->is_open()) return;
    if (ec) {
      // Out of file descriptors and the like: pause instead of spinning.
      auto timer = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      timer->async_wait([self, timer](beast::error_code) { self->accept(); });
      return;
    }
    std::make_shared<HttpSession>(std::move(socket), self)->read();
    self->accept();
  });
}

LiveServer::LiveServer(sim::LoopbackRuntime& runtime, scenarios::ScenarioWorld& world, ServeInfo info)
    : impl_(std::make_shared<Impl>(sim::io_context_of(runtime), world, std::move(info))) {
  world.trace.add_listener([weak = std::weak_ptr<Impl>(impl_)](const sim::TraceEvent& e) {
    if (auto self = weak.lock()) self->on_event(e);
  });
  // Events recorded before the server existed count as flushed history.
  if (!world.trace.events().empty()) impl_->flushed_upto = world.trace.events().back().sequence;
  impl_->pending_upto = impl_->flushed_upto;
}

LiveServer::~LiveServer() {
  if (impl_->acceptor) {
    beast::error_code ignored;
    impl_->acceptor->close(ignored);
  }
}

absl::StatusOr<int> LiveServer::listen(const std::string& address, int port) {
  beast::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("not an IP address: ", address));
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->io);
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ":", port, ": ", ec.message()));
  impl_->info.http_port = acceptor->local_endpoint().port();
  impl_->acceptor = acceptor;
  impl_->accept();
  return impl_->info.http_port;
}

std::size_t LiveServer::viewers() const {
  std::size_t n = 0;
  for (const auto& weak : impl_->viewers) {
    if (auto v = weak.lock(); v && !v->closed()) ++n;
  }
  return n;
}

}  // namespace smtplab::cli
