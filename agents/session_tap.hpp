// Sees, and may change, what passes between a server endpoint's link (inside
// TLS, so in plaintext) and its ServerSession. Nothing in smtplab's agents
// uses one: it is how tests build a server broken in a known way (the
// conformance break switches) around an engine that has no broken modes.
#pragma once

#include <string>
#include <string_view>

#include "agents/smtp/server_session.hpp"

namespace smtplab::agents {

class SessionTap {
 public:
  virtual ~SessionTap() = default;
  // The client's bytes, before the session reads them.
  virtual std::string on_input(smtp::ServerSession& session, std::string_view bytes) = 0;
  // The session's bytes, before they go to the client.
  virtual std::string on_output(smtp::ServerSession& session, std::string bytes) = 0;
  // Just after the session learnt that TLS is established (RFC 3207 4.2).
  virtual void after_tls(smtp::ServerSession& session) = 0;
};

}  // namespace smtplab::agents
