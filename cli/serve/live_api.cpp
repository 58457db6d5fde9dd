#include "cli/serve/live_api.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agents/message_headers.hpp"
#include "base/absl_string_view.hpp"
#include "sim/trace/trace_jsonl.hpp"

namespace smtplab::cli {
namespace {

using Json = nlohmann::ordered_json;

HttpAnswer json_answer(const Json& j, int status = 200) {
  // Invalid UTF-8 in a message (8-bit text without a charset) must not
  // stop the answer: it is replaced, as a mail reader would show it.
  return {status, "application/json", j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n"};
}


std::string header_or_empty(std::string_view message, std::string_view name) {
  return agents::find_header(message, name).value_or("");
}

// "451 4.7.1 Greylisted, try again in 300 seconds"
std::string reply_line(const smtp::Reply& r) {
  return absl::StrCat(r.code, r.enhanced.empty() ? "" : " " + r.enhanced, " ", r.text());
}

const char* state_name(agents::QueuedRecipient::State s) {
  switch (s) {
    case agents::QueuedRecipient::State::kPending: return "pending";
    case agents::QueuedRecipient::State::kDelivered: return "delivered";
    case agents::QueuedRecipient::State::kBounced: return "bounced";
  }
  return "pending";
}

Json message_summary(const agents::StoredMessage& m) {
  return Json{{"message_id", m.message_id},
              {"delivered_at_us", absl::ToInt64Microseconds(m.delivered_at)},
              {"octets", m.content.size()},
              {"from", header_or_empty(m.content, "From")},
              {"to", header_or_empty(m.content, "To")},
              {"subject", header_or_empty(m.content, "Subject")}};
}

HttpAnswer hosts(const scenarios::ScenarioWorld& world, const ServeInfo& info) {
  Json out{{"scenario", world.scenario().title},
           {"file", info.scenario_path},
           {"time_us", absl::ToInt64Microseconds(world.now())},
           {"time_scale", info.time_scale},
           {"spool", info.spool_root}};
  std::map<std::string, Json> by_host;
  auto entry = [&](const std::string& host, const std::string& role) -> Json& {
    Json& h = by_host[host];
    if (h.is_null()) h = Json{{"name", host}, {"roles", Json::array()}, {"listeners", Json::array()}};
    h["roles"].push_back(role);
    return h;
  };
  for (const auto& [host, mta] : world.mtas) entry(host, mta->settings().agent_name);
  for (const auto& [host, mda] : world.mdas) entry(host, "mda");
  // MUAs are keyed by host and settings ("laptop.example.org|submit...").
  std::set<std::string> mua_hosts;
  for (const auto& [key, mua] : world.muas) mua_hosts.insert(key.substr(0, key.find('|')));
  for (const auto& host : mua_hosts) entry(host, "mua");
  if (const auto* net = world.loopback_network()) {
    for (const auto& [key, real] : net->listeners()) {
      Json& h = by_host[key.first];
      if (h.is_null()) h = Json{{"name", key.first}, {"roles", Json::array()}, {"listeners", Json::array()}};
      h["address"] = net->address_of(key.first);
      h["listeners"].push_back(Json{{"port", key.second}, {"real", real}});
    }
  }
  out["hosts"] = Json::array();
  for (auto& [host, h] : by_host) out["hosts"].push_back(std::move(h));
  return json_answer(out);
}

HttpAnswer mailboxes(const scenarios::ScenarioWorld& world) {
  Json out = Json::object();
  for (const auto& [host, mda] : world.mdas) {
    Json users = Json::object();
    for (const auto& [user, messages] : mda->mailboxes()) {
      Json list = Json::array();
      for (const auto& m : messages) list.push_back(message_summary(m));
      users[user] = std::move(list);
    }
    out[host] = std::move(users);
  }
  return json_answer(out);
}

HttpAnswer one_mailbox(const scenarios::ScenarioWorld& world, const std::string& host, const std::string& user) {
  auto it = world.mdas.find(host);
  if (it == world.mdas.end()) return error_answer(404, absl::StrCat("no mailbox host ", host, " (see /api/mailboxes)"));
  const auto& boxes = it->second->mailboxes();
  auto box = boxes.find(user);
  if (box == boxes.end()) return error_answer(404, absl::StrCat("no user ", user, " on ", host));
  Json list = Json::array();
  for (const auto& m : box->second) {
    Json j = message_summary(m);
    j["content"] = m.content;
    list.push_back(std::move(j));
  }
  return json_answer(list);
}

HttpAnswer queues(const scenarios::ScenarioWorld& world) {
  Json out = Json::object();
  for (const auto& [host, mta] : world.mtas) {
    Json list = Json::array();
    for (const auto& [id, m] : mta->queue()) {
      Json recipients = Json::array();
      for (const auto& r : m.recipients) {
        recipients.push_back(Json{{"address", r.path.mailbox.to_string()},
                                  {"state", state_name(r.state)},
                                  {"last_reply", r.last_reply ? reply_line(*r.last_reply) : ""},
                                  {"last_host", r.last_host}});
      }
      const auto next = mta->next_attempt(id);
      list.push_back(Json{{"queue_id", id},
                          {"message_id", m.message_id},
                          {"from", m.reverse_path.to_string()},
                          {"subject", header_or_empty(m.content, "Subject")},
                          {"octets", m.content.size()},
                          {"arrival_us", absl::ToInt64Microseconds(m.arrival)},
                          {"attempts", m.attempts},
                          {"in_flight", m.in_flight},
                          {"is_bounce", m.is_bounce},
                          {"next_attempt_us", next ? Json(absl::ToInt64Microseconds(*next)) : Json(nullptr)},
                          {"recipients", std::move(recipients)}});
    }
    out[host] = std::move(list);
  }
  return json_answer(out);
}

HttpAnswer trace_since(const scenarios::ScenarioWorld& world, std::string_view query) {
  std::uint64_t since = 0;
  for (absl::string_view pair : absl::StrSplit(av(query), '&')) {
    if (pair.substr(0, 6) == "since=" && !absl::SimpleAtoi(pair.substr(6), &since)) {
      return error_answer(400, "since= wants a sequence number (the \"seq\" of the last event you have)");
    }
  }
  HttpAnswer a{200, "application/x-ndjson", ""};
  for (const auto& e : world.trace.events()) {
    if (e.sequence > since) absl::StrAppend(&a.body, sim::to_json_line(e), "\n");
  }
  return a;
}

std::string index_text(const ServeInfo& info) {
  return absl::StrCat(
      "smtplab serve: ", info.scenario_path, " on real loopback sockets\n\n",
      "  GET /api/hosts                 hosts, their agents and where they listen\n"
      "  GET /api/mailboxes             every mailbox and its messages\n"
      "  GET /api/mailboxes/HOST/USER   one mailbox with the message text\n"
      "  GET /api/queues                every queue: recipients, last reply, next attempt\n"
      "  GET /api/trace?since=N         the trace so far (JSON Lines, docs/trace.md)\n"
      "  WebSocket /trace               the trace as it happens:\n"
      "                                 smtplab-viz --attach ws://127.0.0.1:",
      info.http_port, "/trace\n");
}

}  // namespace

HttpAnswer error_answer(int status, const std::string& why) { return json_answer(Json{{"error", why}}, status); }

HttpAnswer answer_api(const scenarios::ScenarioWorld& world, const ServeInfo& info, std::string_view method,
                      std::string_view target) {
  if (method != "GET") return error_answer(405, "this API only answers GET");
  const auto question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query = question == std::string_view::npos ? "" : target.substr(question + 1);
  if (path == "/" || path == "/api" || path == "/api/") return {200, "text/plain; charset=utf-8", index_text(info)};
  if (path == "/api/hosts") return hosts(world, info);
  if (path == "/api/mailboxes") return mailboxes(world);
  if (path == "/api/queues") return queues(world);
  if (path == "/api/trace") return trace_since(world, query);
  if (path == "/trace") {
    // RFC 6455 4.2.2: the WebSocket handshake is the way in; 426 says so.
    return error_answer(426, absl::StrCat("/trace is a WebSocket: smtplab-viz --attach ws://127.0.0.1:", info.http_port,
                                          "/trace; GET /api/trace gives the trace so far"));
  }
  if (path.substr(0, 15) == "/api/mailboxes/") {
    std::vector<std::string> parts = absl::StrSplit(av(path.substr(15)), '/');
    if (parts.size() == 2) return one_mailbox(world, parts[0], parts[1]);
  }
  return error_answer(404, absl::StrCat("nothing at ", av(path), "; GET / lists what is here"));
}

}  // namespace smtplab::cli
