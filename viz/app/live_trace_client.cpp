#include "viz/app/live_trace_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::viz {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

}  // namespace

absl::StatusOr<WebSocketUrl> parse_websocket_url(const std::string& url) {
  const std::string scheme = "ws://";
  if (url.rfind(scheme, 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": expected ws://HOST:PORT/trace, as smtplab serve prints"));
  }
  std::string rest = url.substr(scheme.size());
  WebSocketUrl out;
  if (const auto slash = rest.find('/'); slash != std::string::npos) {
    out.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  std::string port_text;
  if (!rest.empty() && rest[0] == '[') {  // [::1]:8025
    const auto close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": expected ws://[IPv6]:PORT/trace"));
    }
    out.host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": no port"));
    out.host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port_text, &out.port) || out.port <= 0 || out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": bad port"));
  }
  if (out.host == "localhost") out.host = "127.0.0.1";
  beast::error_code ec;
  asio::ip::make_address(out.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("\"", url, "\": the host must be an IP address"));
  return out;
}

struct LiveTraceClient::Impl {
  explicit Impl(WebSocketUrl u) : url(std::move(u)), ws(io) {}

  WebSocketUrl url;
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::thread thread;
  std::size_t line_number = 0;  // for errors: the stream read as one file

  mutable std::mutex mutex;  // guards what follows
  std::vector<sim::TraceEvent> arrived;
  std::string status;
  bool ended = false;
  std::size_t received = 0;

  void set_status(std::string s, bool end = false) {
    std::lock_guard lock(mutex);
    status = std::move(s);
    ended = ended || end;
  }

  void start() {
    set_status(absl::StrCat("connecting to ws://", url.host, ":", url.port, url.path));
    const tcp::endpoint endpoint(asio::ip::make_address(url.host), static_cast<unsigned short>(url.port));
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
    beast::get_lowest_layer(ws).async_connect(endpoint, [this](beast::error_code ec) {
      if (ec) return set_status(absl::StrCat("cannot connect: ", ec.message(), " (is smtplab serve running?)"), true);
      beast::get_lowest_layer(ws).expires_never();
      ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
      ws.async_handshake(url.host, url.path, [this](beast::error_code e) {
        if (e) return set_status(absl::StrCat("WebSocket handshake failed: ", e.message()), true);
        set_status("live: waiting for events");
        read();
      });
    });
  }

  void read() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        const bool closed = ec == websocket::error::closed || ec == asio::error::eof;
        return set_status(closed ? "the live stream ended (smtplab serve stopped)"
                                 : absl::StrCat("the live stream broke: ", ec.message()),
                          true);
      }
      const std::string frame = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      std::vector<sim::TraceEvent> parsed;
      for (absl::string_view line : absl::StrSplit(frame, '\n', absl::SkipEmpty())) {
        auto e = sim::parse_json_line(std::string_view(line.data(), line.size()), ++line_number);
        if (!e.ok()) {
          // A stream that is not a trace: say where, stop reading.
          set_status(absl::StrCat("not a trace stream: ", e.status().message()), true);
          beast::error_code ignored;
          beast::get_lowest_layer(ws).socket().close(ignored);
          return;
        }
        parsed.push_back(std::move(*e));
      }
      {
        std::lock_guard lock(mutex);
        received += parsed.size();
        status = absl::StrCat("live: ", received, " events");
        for (auto& e : parsed) arrived.push_back(std::move(e));
      }
      read();
    });
  }
};

LiveTraceClient::LiveTraceClient(WebSocketUrl url) : impl_(std::make_unique<Impl>(std::move(url))) {
  impl_->start();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

LiveTraceClient::~LiveTraceClient() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::vector<sim::TraceEvent> LiveTraceClient::take() {
  std::lock_guard lock(impl_->mutex);
  return std::exchange(impl_->arrived, {});
}

std::string LiveTraceClient::status() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->status;
}

bool LiveTraceClient::ended() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->ended;
}

std::size_t LiveTraceClient::received() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->received;
}

}  // namespace smtplab::viz
