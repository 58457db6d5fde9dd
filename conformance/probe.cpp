#include "conformance/probe.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::conformance {

Probe::~Probe() { close(); }

void Probe::close() {
  if (fd_ >= 0 && wire_connection_ != 0) wire_.observer->on_close(wire_now(), wire_connection_, sim::WireSide::kClient);
  wire_connection_ = 0;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  // Ready for connect() again: nothing of this connection carries over.
  channel_.reset();
  parser_ = smtp::ReplyParser();
  extensions_.clear();
  peer_closed_ = false;
}

absl::Status Probe::connect() {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const std::string port = std::to_string(port_);
  if (int rc = ::getaddrinfo(host_.c_str(), port.c_str(), &hints, &result); rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve ", host_, ": ", ::gai_strerror(rc)));
  }
  absl::Status status = absl::UnavailableError(absl::StrCat("cannot connect to ", host_, ":", port_));
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      int err = 0;
      socklen_t len = sizeof err;
      if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        rc = 0;
      } else {
        status = absl::UnavailableError(absl::StrCat("cannot connect to ", host_, ":", port_, ": ",
                                                     rc == 0 ? "timed out" : std::strerror(err ? err : errno)));
        rc = -1;
      }
    } else if (rc != 0) {
      status = absl::UnavailableError(absl::StrCat("cannot connect to ", host_, ":", port_, ": ", std::strerror(errno)));
    }
    if (rc == 0) {
      fd_ = fd;
      status = absl::OkStatus();
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(result);
  if (status.ok()) note(absl::StrCat("connected to ", host_, ":", port_));
  if (status.ok()) wire_connected();
  if (status.ok() && tls_.mode == ProbeTls::Mode::kImplicit) return handshake();
  return status;
}

namespace {

// "192.0.2.1:25" or "[::1]:25" of a socket's own end or its peer's.
std::string endpoint_text(int fd, bool peer) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if ((peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len)
            : ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len)) != 0) {
    return {};
  }
  char host[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
    return absl::StrCat("[", host, "]:", ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
  ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
  return absl::StrCat(host, ":", ntohs(v4->sin_port));
}

}  // namespace

void Probe::wire_connected() {
  if (wire_.observer == nullptr || wire_.next_connection == nullptr) return;
  const std::string local = endpoint_text(fd_, false), peer = endpoint_text(fd_, true);
  if (local.empty() || peer.empty()) return;
  wire_connection_ = ++*wire_.next_connection;
  wire_.observer->on_connect(wire_now(), wire_connection_, local, peer);
}

bool Probe::read_more(std::chrono::steady_clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
  char buffer[16384];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {
    peer_closed_ = true;
    if (wire_connection_ != 0) {
      if (n == 0) {
        wire_.observer->on_close(wire_now(), wire_connection_, sim::WireSide::kServer);
      } else {
        wire_.observer->on_reset(wire_now(), wire_connection_);
        wire_connection_ = 0;  // nothing more goes out on a reset connection
      }
    }
    return false;
  }
  const std::string_view bytes(buffer, static_cast<std::size_t>(n));
  if (wire_connection_ != 0) wire_.observer->on_bytes(wire_now(), wire_connection_, sim::WireSide::kServer, bytes);
  if (!channel_) {
    parser_.feed(bytes);
    return true;
  }
  channel_->receive(bytes);
  flush_tls();
  if (channel_->state() == tls::TlsChannel::State::kFailed) {
    note(absl::StrCat("TLS failed: ", channel_->report().error));
    peer_closed_ = true;
    return false;
  }
  parser_.feed(channel_->take_plaintext());
  return true;
}

bool Probe::write_all(std::string_view bytes) {
  if (fd_ >= 0 && wire_connection_ != 0 && !bytes.empty()) {
    wire_.observer->on_bytes(wire_now(), wire_connection_, sim::WireSide::kClient, bytes);
  }
  std::size_t sent = 0;
  while (fd_ >= 0 && sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(timeout_.count())) == 1) continue;
    }
    return false;
  }
  return fd_ >= 0;
}

bool Probe::flush_tls() {
  return !channel_->has_ciphertext() || write_all(channel_->take_ciphertext());
}

absl::Status Probe::handshake() {
  if (!tls_.context) return absl::FailedPreconditionError("no TLS configured for the probe");
  auto channel = tls::TlsChannel::client(tls_.context, tls_.server_name.empty() ? host_ : tls_.server_name,
                                         absl::Now());
  if (!channel.ok()) return channel.status();
  channel_ = std::move(*channel);
  note("TLS handshake");
  if (!flush_tls()) return absl::UnavailableError("could not send the TLS ClientHello");
  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  while (channel_->state() == tls::TlsChannel::State::kHandshaking) {
    if (!read_more(deadline)) break;
  }
  const tls::HandshakeReport& r = channel_->report();
  if (channel_->state() != tls::TlsChannel::State::kEstablished) {
    const std::string why = r.error.empty() ? "no TLS handshake within the timeout" : r.error;
    note(absl::StrCat("TLS handshake failed: ", why));
    return absl::UnavailableError(absl::StrCat("TLS handshake failed: ", why));
  }
  note(absl::StrCat("TLS established: ", r.version, " ", r.cipher, "; certificate ", r.peer_subject, " issued by ",
                    r.peer_issuer, r.verified ? " (verified)" : absl::StrCat(" (NOT verified: ", r.verify_result, ")")));
  return absl::OkStatus();
}

absl::StatusOr<smtp::Reply> Probe::reply() { return reply(timeout_); }

absl::StatusOr<smtp::Reply> Probe::reply(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto next = parser_.next()) {
      if (!next->ok()) {
        note(absl::StrCat("malformed reply: ", next->status().message()));
        return next->status();
      }
      const std::string wire = (*next)->format();
      std::string_view rest(wire);
      while (!rest.empty()) {
        const auto eol = rest.find("\r\n");
        transcript_.push_back({'S', std::string(rest.substr(0, eol))});
        rest.remove_prefix(eol + 2);
      }
      return **next;
    }
    if (!read_more(deadline)) {
      if (peer_closed_) {
        note("the server closed the connection");
        return absl::UnavailableError("the server closed the connection");
      }
      note(absl::StrCat("no reply within ", timeout.count(), " ms"));
      return absl::DeadlineExceededError(absl::StrCat("no reply within ", timeout.count(), " ms"));
    }
  }
}

void Probe::send_raw(std::string_view bytes, std::string_view shown) {
  transcript_.push_back({'C', std::string(shown)});
  bool ok = false;
  if (channel_) {
    channel_->send(bytes);
    ok = flush_tls();
  } else {
    ok = write_all(bytes);
  }
  if (!ok) note("could not send: the connection is gone or stuck");
}

void Probe::send_line(std::string_view line) {
  const std::string shown = line.size() > 120 ? absl::StrCat(av(line.substr(0, 100)), "... (", line.size(), " octets)")
                                              : std::string(line);
  send_raw(absl::StrCat(av(line), "\r\n"), shown);
}

absl::StatusOr<smtp::Reply> Probe::command(std::string_view line) {
  send_line(line);
  return reply();
}

bool Probe::closed_within(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!peer_closed_ && read_more(deadline)) {
    while (auto next = parser_.next()) {
      if (next->ok()) transcript_.push_back({'S', std::string((*next)->format().substr(0, (*next)->format().size() - 2))});
    }
  }
  return peer_closed_;
}

absl::StatusOr<smtp::Reply> Probe::open_session(std::string_view helo) {
  if (!connected()) {
    if (auto s = connect(); !s.ok()) return s;
  }
  auto greeting = reply();
  if (!greeting.ok()) return greeting.status();
  if (greeting->code != 220) return *greeting;
  auto first = ehlo(helo);
  if (tls_.mode != ProbeTls::Mode::kStartTls || tls_active() || !first.ok() || first->code != 250) return first;
  auto go = command("STARTTLS");
  if (!go.ok()) return go.status();
  if (go->code != 220) return absl::FailedPreconditionError(absl::StrCat("STARTTLS refused: ", go->code, " ", go->text()));
  if (auto s = handshake(); !s.ok()) return s;
  return ehlo(helo);  // RFC 3207 4.2: start over inside TLS
}

absl::StatusOr<smtp::Reply> Probe::ehlo(std::string_view helo) {
  auto r = command(absl::StrCat("EHLO ", av(helo)));
  extensions_.clear();
  if (r.ok() && r->code == 250) {
    for (std::size_t i = 1; i < r->lines.size(); ++i) extensions_.push_back(absl::AsciiStrToUpper(r->lines[i]));
  }
  return r;
}

bool Probe::offers(std::string_view keyword) const {
  const std::string k = absl::AsciiStrToUpper(av(keyword));
  for (const auto& e : extensions_) {
    if (e == k || e.rfind(k + " ", 0) == 0 || e.rfind(k + "=", 0) == 0) return true;
  }
  return false;
}

std::string Probe::extension_params(std::string_view keyword) const {
  const std::string k = absl::AsciiStrToUpper(av(keyword));
  for (const auto& e : extensions_) {
    if (e.rfind(k + " ", 0) == 0) return e.substr(k.size() + 1);
  }
  return {};
}

}  // namespace smtplab::conformance
