// Sends, timed actions and expectations, from the YAML document.
#include "scenarios/scenario_loader_internal.hpp"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/smtp/reply.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::scenarios::loading {

const std::vector<std::string> kSendKeys = {"at", "from", "to", "subject", "body", "auth", "via", "count",
                                           "interval", "pipelining", "tls"};
const std::vector<std::string> kActionKinds = {"send", "host_down", "host_up", "partition", "heal", "dns", "fault"};
const std::vector<std::string> kExpectKinds = {"delivered", "not_delivered", "bounced", "reply", "deferred",
                                              "queue_empty", "event"};

bool Loader::send(const YAML::Node& n, SendSpec& out) {
  if (!check_keys(n, kSendKeys, "send")) return false;
  if (!n["from"] || !n["to"]) {
    error(n, "send needs 'from' and 'to'");
    return false;
  }
  out.from = address(n["from"], "from").value_or("");
  out.from_where = where_of(n["from"]);
  out.to = address_list(n["to"], "to");
  if (auto v = n["subject"]) out.subject = str(v, "subject").value_or(out.subject);
  if (auto v = n["body"]) out.body = str(v, "body").value_or(out.body);
  if (auto v = n["auth"]) out.authenticate = boolean(v, "auth").value_or(true);
  if (auto v = n["via"]) {
    if (auto via = host_port(v, "via")) {
      host_references_.push_back({via->host, where_of(v)});
      out.via = std::move(via);
    }
  }
  if (auto v = n["count"]) out.count = integer(v, "count", 1, 1000000).value_or(1);
  if (auto v = n["interval"]) out.interval = duration(v, "interval").value_or(out.interval);
  if (auto v = n["pipelining"]) out.pipelining = boolean(v, "pipelining").value_or(true);
  if (auto v = n["tls"]) {
    if (auto s = one_of(v, "send.tls", {"none", "may", "encrypt", "verify"})) out.tls = agents::parse_tls_level(*s);
  }
  return !out.from.empty() && !out.to.empty();
}

void Loader::action(const YAML::Node& node, Scenario& s, bool send_shorthand) {
  ActionSpec a;
  a.where = where_of(node);
  if (!node.IsMap()) {
    error(node, "each action is a mapping, e.g. '- at: 10m' with 'host_down: mx.example.net'");
    return;
  }
  if (send_shorthand) {
    a.kind = ActionSpec::Kind::kSend;
    if (auto at = node["at"]) a.at = duration(at, "at").value_or(absl::ZeroDuration());
    if (send(node, a.send)) s.actions.push_back(std::move(a));
    return;
  }
  std::vector<std::string> allowed = kActionKinds;
  allowed.push_back("at");
  if (!check_keys(node, allowed, "an action")) return;
  if (auto at = node["at"]) a.at = duration(at, "at").value_or(absl::ZeroDuration());
  std::vector<std::string> kinds;
  for (const auto& k : kActionKinds) {
    if (node[k]) kinds.push_back(k);
  }
  if (kinds.size() != 1) {
    error(node, absl::StrCat("an action needs exactly one of: ", absl::StrJoin(kActionKinds, ", "),
                             kinds.empty() ? "" : absl::StrCat(" (found ", absl::StrJoin(kinds, ", "), ")")));
    return;
  }
  const std::string kind = kinds[0];
  const YAML::Node v = node[kind];
  if (kind == "send") {
    a.kind = ActionSpec::Kind::kSend;
    if (!send(v, a.send)) return;
  } else if (kind == "host_down" || kind == "host_up") {
    a.kind = kind == "host_down" ? ActionSpec::Kind::kHostDown : ActionSpec::Kind::kHostUp;
    a.hosts = host_list(v, kind);
    if (a.hosts.size() != 1) {
      error(v, absl::StrCat(kind, " takes one host name"));
      return;
    }
    host_references_.push_back({a.hosts[0], where_of(v)});
  } else if (kind == "partition" || kind == "heal") {
    a.kind = kind == "partition" ? ActionSpec::Kind::kPartition : ActionSpec::Kind::kHeal;
    a.hosts = host_list(v, kind);
    if (a.hosts.size() != 2) {
      error(v, absl::StrCat(kind, " takes two host names: [a, b]"));
      return;
    }
    for (const auto& h : a.hosts) host_references_.push_back({h, where_of(v)});
  } else if (kind == "dns") {
    a.kind = ActionSpec::Kind::kDns;
    if (!check_keys(v, {"name", "mx", "failure"}, "dns") || !v["name"]) {
      if (v.IsMap() && !v["name"]) error(v, "dns needs 'name'");
      return;
    }
    a.dns_name = absl::AsciiStrToLower(str(v["name"], "name").value_or(""));
    if (auto mx = v["mx"]) {
      a.dns_mx = mx_list(mx, "dns.mx");
      for (std::size_t i = 0; i < a.dns_mx.size(); ++i) {
        if (a.dns_mx[i].host != ".") host_references_.push_back({a.dns_mx[i].host, where_of(mx[i])});
      }
    }
    if (auto f = v["failure"]) {
      const auto failure = sim::parse_dns_failure(absl::AsciiStrToLower(str(f, "failure").value_or("")));
      if (!failure) {
        error(f, "failure must be nxdomain, servfail, timeout or none");
        return;
      }
      a.dns_failure = *failure;
    }
  } else if (kind == "fault") {
    a.kind = ActionSpec::Kind::kFault;
    if (!check_keys(v, {"host", "step", "reply", "skip", "times"}, "fault")) return;
    if (!v["host"] || !v["reply"]) {
      error(v, "fault needs 'host' and 'reply' (e.g. reply: 421 4.3.2 Shutting down)");
      return;
    }
    a.fault.host = absl::AsciiStrToLower(str(v["host"], "host").value_or(""));
    host_references_.push_back({a.fault.host, where_of(v["host"])});
    fault_hosts_.push_back({a.fault.host, where_of(v["host"])});
    if (v["step"]) {
      const std::string step = absl::AsciiStrToLower(str(v["step"], "step").value_or(""));
      const auto parsed = agents::parse_smtp_step(step);
      if (!parsed) {
        error(v["step"], absl::StrCat("step must be connect, mail, rcpt or data",
                                      suggestion(step, {"connect", "mail", "rcpt", "data"})));
        return;
      }
      a.fault.step = *parsed;
    }
    smtp::ReplyParser parser;
    parser.feed(str(v["reply"], "reply").value_or("") + "\r\n");
    auto reply = parser.next();
    if (!reply || !reply->ok() || (*reply)->is_positive()) {
      error(v["reply"], "reply must be an SMTP error reply such as '421 4.3.2 Service shutting down'");
      return;
    }
    a.fault.code = (*reply)->code;
    a.fault.enhanced = (*reply)->enhanced;
    a.fault.text = (*reply)->text();
    if (auto n = v["skip"]) a.fault.skip = integer(n, "skip", 0, 1000000).value_or(0);
    if (auto n = v["times"]) {
      a.fault.times = integer(n, "times", -1, 1000000).value_or(1);
      if (a.fault.times == 0) error(n, "times: 0 would never fire; use 1 or more, or -1 for every time");
    }
  }
  s.actions.push_back(std::move(a));
}

void Loader::expectation(const YAML::Node& node, Scenario& s) {
  ExpectSpec e;
  e.where = where_of(node);
  if (!node.IsMap() || node.size() != 1) {
    error(node, absl::StrCat("each expectation is one of: ", absl::StrJoin(kExpectKinds, ", "),
                             " (e.g. '- delivered: bob@example.net')"));
    return;
  }
  const std::string kind = node.begin()->first.as<std::string>();
  const YAML::Node v = node.begin()->second;
  auto details = [&](const std::vector<std::string>& allowed) {
    if (!v.IsMap()) return false;
    if (!check_keys(v, allowed, kind)) return false;
    if (auto n = v["to"]) e.to = address(n, "to").value_or("");
    if (auto n = v["by"]) e.by = duration(n, "by");
    if (auto n = v["after"]) e.after = duration(n, "after");
    if (auto n = v["host"]) {
      e.host = absl::AsciiStrToLower(str(n, "host").value_or(""));
      host_references_.push_back({e.host, where_of(n)});
    }
    if (auto n = v["code"]) e.code = integer(n, "code", 200, 599).value_or(0);
    if (auto n = v["kind"]) {
      const std::string name = str(n, "kind").value_or("");
      if (auto known = sim::event_kind_named(name)) {
        e.event_kind = *known;
      } else {
        std::vector<std::string> names;
        for (const auto& k : sim::all_event_kinds()) names.emplace_back(k.name);
        error(n, absl::StrCat("'", name, "' is not a trace event kind", suggestion(name, names), " (see docs/trace.md)"));
      }
    }
    if (auto n = v["text"]) e.text = str(n, "text").value_or("");
    if (auto n = v["count"]) e.count = integer(n, "count", 0, 100000000).value_or(-1);
    return true;
  };
  if (kind == "delivered" || kind == "not_delivered" || kind == "bounced") {
    e.kind = kind == "delivered" ? ExpectSpec::Kind::kDelivered
             : kind == "bounced" ? ExpectSpec::Kind::kBounced
                                 : ExpectSpec::Kind::kNotDelivered;
    if (v.IsScalar()) {
      e.to = address(v, kind).value_or("");
    } else if (!details({"to", "by", "after", "count"})) {
      return;
    }
    if (e.to.empty()) {
      error(v, absl::StrCat(kind, " needs the address ('to')"));
      return;
    }
  } else if (kind == "reply") {
    e.kind = ExpectSpec::Kind::kReply;
    if (v.IsScalar()) {
      e.code = integer(v, "reply", 200, 599).value_or(0);
    } else if (!details({"code", "host", "text", "by", "after", "count"})) {
      return;
    }
    if (e.code == 0) {
      if (!(v.IsMap() && v["code"])) {
        error(v, "reply needs a code, e.g. '- reply: 451' or '- reply: {code: 451, host: mx.example.net}'");
      }
      return;
    }
  } else if (kind == "deferred") {
    e.kind = ExpectSpec::Kind::kDeferred;
    if (v.IsScalar()) {
      if (!boolean(v, "deferred").value_or(false)) return;
    } else if (!details({"to", "host", "text", "by", "after", "count"})) {
      return;
    }
  } else if (kind == "queue_empty") {
    e.kind = ExpectSpec::Kind::kQueueEmpty;
    if (!boolean(v, "queue_empty").value_or(false)) {
      error(v, "queue_empty takes 'true'");
      return;
    }
  } else if (kind == "event") {
    e.kind = ExpectSpec::Kind::kEvent;
    if (!details({"kind", "host", "text", "by", "after", "count"})) {
      // A mapping with a key misspelt has had its error (with a suggestion).
      if (!v.IsMap()) {
        error(v, "event needs a mapping with at least 'kind', e.g. {kind: queue.defer, host: mx.example.org}");
      }
      return;
    }
    if (!v["kind"]) {
      error(v, "event needs 'kind' (a trace event kind such as queue.defer; see docs/trace.md)");
      return;
    }
  } else {
    error(node.begin()->first, absl::StrCat("unknown expectation '", kind, "'", suggestion(kind, kExpectKinds),
                                            " (valid: ", absl::StrJoin(kExpectKinds, ", "), ")"));
    return;
  }
  s.expects.push_back(std::move(e));
}

}  // namespace smtplab::scenarios::loading
