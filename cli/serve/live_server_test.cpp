// smtplab serve's sockets: the trace WebSocket (history, then live events,
// nothing lost or repeated) and the HTTP API, with the scenario's agents on
// real loopback sockets in the same event loop. Clients run on their own
// thread and io_context, each wait bounded in time.
#include "cli/serve/live_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "scenarios/scenario_loader.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// Reads the trace WebSocket until a line contains `until`, or 20 s pass.
std::vector<std::string> read_trace(int port, const std::string& until) {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws(io);
  std::vector<std::string> lines;
  beast::error_code ec;
  beast::get_lowest_layer(ws).socket().connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return lines;
  ws.handshake("127.0.0.1", "/trace", ec);
  if (ec) return lines;
  beast::flat_buffer buffer;
  bool done = false;
  std::function<void()> next = [&] {
    ws.async_read(buffer, [&](beast::error_code e, std::size_t) {
      if (e) return;
      const std::string frame = beast::buffers_to_string(buffer.data());
      buffer.consume(buffer.size());
      EXPECT_TRUE(frame.empty() || frame.back() == '\n') << "a frame must end with a whole line";
      for (absl::string_view line : absl::StrSplit(frame, '\n', absl::SkipEmpty())) {
        lines.emplace_back(line);
        done |= absl::StrContains(line, until);
      }
      if (done) {
        beast::error_code ignored;
        beast::get_lowest_layer(ws).socket().close(ignored);
        return;
      }
      next();
    });
  };
  next();
  io.run_for(std::chrono::seconds(20));
  return lines;
}

// Sends raw bytes, reads until the server closes (or, with `first_line`,
// until the status line is in), at most 10 s.
std::string raw_http(int port, const std::string& request, bool first_line = false) {
  asio::io_context io;
  tcp::socket socket(io);
  beast::error_code ec;
  socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, ec);
  if (ec) return "connect failed: " + ec.message();
  asio::write(socket, asio::buffer(request), ec);
  std::string answer;
  std::array<char, 4096> chunk;
  std::function<void()> next = [&] {
    socket.async_read_some(asio::buffer(chunk), [&](beast::error_code e, std::size_t n) {
      answer.append(chunk.data(), n);
      if (!e && !(first_line && answer.find("\r\n") != std::string::npos)) next();
    });
  };
  next();
  io.run_for(std::chrono::seconds(10));
  return first_line ? answer.substr(0, answer.find("\r\n")) : answer;
}

class LiveServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/greylisting.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error_text();
    scenario_ = *loaded.scenario;
    runtime_.set_time_scale(600);  // the 300 s greylisting retry in half a second
    world_ = std::make_unique<scenarios::ScenarioWorld>(scenario_, runtime_, scenarios::LoopbackWorldOptions{});
    server_ = std::make_unique<LiveServer>(runtime_, *world_, ServeInfo{"greylisting.yaml", 600, "", 0});
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
  }
  void TearDown() override {
    server_.reset();
    world_.reset();
  }
  bool delivered() const { return world_->mdas.at("mail.example.net")->mailbox("bob").size() == 1; }

  scenarios::Scenario scenario_;
  sim::LoopbackRuntime runtime_;
  std::unique_ptr<scenarios::ScenarioWorld> world_;
  std::unique_ptr<LiveServer> server_;
  int port_ = 0;
};

// The viewer that watches from the start sees every event once, in order,
// byte for byte as the trace file would have it.
TEST_F(LiveServerTest, ViewerFromTheStartGetsTheWholeTraceOnceInOrder) {
  ASSERT_TRUE(world_->build().ok());
  std::atomic<bool> viewer_done{false};
  std::vector<std::string> lines;
  std::thread viewer([&] {
    lines = read_trace(port_, "\"kind\":\"mailbox.deliver\"");
    viewer_done = true;
  });
  const bool finished = runtime_.run_until([&] { return viewer_done.load() && delivered(); }, absl::Seconds(30));
  viewer.join();
  ASSERT_TRUE(finished);
  ASSERT_GT(lines.size(), 50u);
  const auto& events = world_->trace.events();
  ASSERT_LE(lines.size(), events.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i], sim::to_json_line(events[i])) << "line " << i + 1;
  }
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                          [](const std::string& l) { return absl::StrContains(l, "\"kind\":\"mailbox.deliver\""); }));
}

// A viewer that comes late gets the history first, then what follows.
TEST_F(LiveServerTest, LateViewerGetsTheHistoryFirst) {
  ASSERT_TRUE(world_->build().ok());
  std::atomic<bool> deliver_seen{false}, viewer_done{false};
  std::vector<std::string> lines;
  std::thread viewer([&] {
    while (!deliver_seen && !viewer_done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Everything up to the delivery has happened before this viewer connects;
    // it reads until the MDA's reply after it.
    lines = read_trace(port_, "\"kind\":\"conn.close\",\"host\":\"mx.example.net\"");
    viewer_done = true;
  });
  const bool finished = runtime_.run_until(
      [&] {
        if (delivered()) deliver_seen = true;
        return viewer_done.load();
      },
      absl::Seconds(30));
  viewer_done = true;
  viewer.join();
  ASSERT_TRUE(finished);
  ASSERT_GT(lines.size(), 50u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(nlohmann::json::parse(lines[i])["seq"], i + 1) << "line " << i + 1;
  }
  EXPECT_EQ(server_->viewers(), 0u);  // it hung up
}

TEST_F(LiveServerTest, HttpAnswersAndSurvivesGarbage) {
  ASSERT_TRUE(world_->build().ok());
  std::atomic<bool> done{false};
  std::string garbage_answer, mailboxes_answer, missing_answer;
  std::thread client([&] {
    garbage_answer = raw_http(port_, "\x16\x03\x01 this is not HTTP\r\n\r\n");
    missing_answer = raw_http(port_, "GET /api/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    mailboxes_answer = raw_http(port_, "GET /api/mailboxes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    done = true;
  });
  const bool finished = runtime_.run_until([&] { return done.load(); }, absl::Seconds(30));
  client.join();
  ASSERT_TRUE(finished);
  EXPECT_TRUE(absl::StartsWith(garbage_answer, "HTTP/1.1 400")) << garbage_answer;
  EXPECT_TRUE(absl::StrContains(garbage_answer, "{\n  \"error\": \"bad request")) << garbage_answer;
  EXPECT_TRUE(absl::StartsWith(missing_answer, "HTTP/1.1 404")) << missing_answer;
  ASSERT_TRUE(absl::StartsWith(mailboxes_answer, "HTTP/1.1 200")) << mailboxes_answer;
  const auto body = nlohmann::json::parse(mailboxes_answer.substr(mailboxes_answer.find("\r\n\r\n") + 4));
  EXPECT_TRUE(body.contains("mail.example.net"));
}

// RFC 6455 10.2: a page from another origin may not watch the trace.
TEST(LiveServerOriginTest, CrossOriginWebSocketIsRefused) {
  auto loaded = scenarios::load_scenario_file(std::string(SMTPLAB_LIBRARY_DIR) + "/direct-delivery.yaml");
  ASSERT_TRUE(loaded.ok());
  sim::LoopbackRuntime runtime;
  scenarios::ScenarioWorld world(*loaded.scenario, runtime, scenarios::LoopbackWorldOptions{});
  LiveServer server(runtime, world, ServeInfo{});
  auto port = server.listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok());
  std::atomic<bool> done{false};
  std::string evil, evil2, local;
  std::thread client([&] {
    const std::string upgrade =
        "GET /trace HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    evil = raw_http(*port, upgrade + "Origin: http://localhost.evil.example\r\n\r\n");
    evil2 = raw_http(*port, upgrade + "Origin: http://127.evil.example\r\n\r\n");
    local = raw_http(*port, upgrade + "Origin: http://127.0.0.1:8000\r\n\r\n", /*first_line=*/true);
    done = true;
  });
  ASSERT_TRUE(runtime.run_until([&] { return done.load(); }, absl::Seconds(30), absl::ZeroDuration()));
  client.join();
  EXPECT_TRUE(absl::StartsWith(evil, "HTTP/1.1 403")) << evil;
  EXPECT_TRUE(absl::StartsWith(evil2, "HTTP/1.1 403")) << evil2;
  EXPECT_TRUE(absl::StartsWith(local, "HTTP/1.1 101")) << local;
}

}  // namespace
}  // namespace smtplab::cli
