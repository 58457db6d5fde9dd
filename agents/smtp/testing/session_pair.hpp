// Connects a ClientSession to a ServerSession in memory and moves bytes
// between them until neither has anything to say. TLS is "established" at
// once when both ask for it (the handshake itself is the link's business).
#pragma once

#include <string>

#include "agents/smtp/client_session.hpp"
#include "agents/smtp/server_session.hpp"

namespace smtplab::smtp::testing {

struct WireLog {
  std::string client_to_server;
  std::string server_to_client;
  int client_writes = 0;  // how many separate writes (round trips) the client made
};

inline WireLog run_pair(ClientSession& client, ServerSession& server, int max_rounds = 1000) {
  WireLog log;
  server.start();
  for (int round = 0; round < max_rounds; ++round) {
    bool moved = false;
    if (server.has_output()) {
      std::string bytes = server.take_output();
      log.server_to_client += bytes;
      client.receive(bytes);
      moved = true;
    }
    if (client.has_output()) {
      std::string bytes = client.take_output();
      log.client_to_server += bytes;
      ++log.client_writes;
      server.receive(bytes);
      moved = true;
    }
    if (client.awaiting_tls() && server.awaiting_tls() && !server.has_output()) {
      server.tls_established();
      client.tls_established();
      moved = true;
    }
    if (server.wants_close() && !server.has_output()) {
      client.connection_closed("server closed the connection");
      break;
    }
    if (!moved) break;
  }
  return log;
}

}  // namespace smtplab::smtp::testing
