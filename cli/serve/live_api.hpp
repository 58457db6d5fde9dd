// The HTTP API of `smtplab serve`, as plain functions of a running world:
// no sockets here (live_server.cpp carries the bytes), so tests call them
// directly. Everything is read-only; JSON unless said otherwise.
//
//   GET /                          what is here, in words (text/plain)
//   GET /api/hosts                 hosts, their agents and real listeners
//   GET /api/mailboxes             every mailbox: its messages, without text
//   GET /api/mailboxes/HOST/USER   one mailbox with the stored message text
//   GET /api/queues                every MTA's and MSA's queue
//   GET /api/trace[?since=N]       the trace so far as JSON Lines (after seq N)
//   GET /trace (WebSocket)         the trace as it happens (live_server.hpp)
#pragma once

#include <string>
#include <string_view>

#include "scenarios/scenario_world.hpp"

namespace smtplab::cli {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct ServeInfo {
  std::string scenario_path;
  double time_scale = 1;
  std::string spool_root;  // empty: mailboxes and queues in memory only
  int http_port = 0;
};

// {"error": why} with `status`: every error of the API looks like this.
HttpAnswer error_answer(int status, const std::string& why);

HttpAnswer answer_api(const scenarios::ScenarioWorld& world, const ServeInfo& info, std::string_view method,
                      std::string_view target);

}  // namespace smtplab::cli
