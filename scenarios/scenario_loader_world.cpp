// Domains, their TLS, hosts and attackers, from the YAML document.
#include "scenarios/scenario_loader_internal.hpp"

#include <algorithm>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/smtp/address.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::scenarios::loading {

const std::vector<std::string> kDomainKeys = {"users", "mx", "null_mx", "dns", "smarthost", "greylisting",
                                             "rate_limit", "max_message_size", "quota_full", "pipelining",
                                             "connection_cache", "relay_from", "tls"};
const std::vector<std::string> kTlsKeys = {"certificate", "starttls", "min_version", "max_version", "outgoing",
                                           "submission", "submission_port"};
const std::vector<std::string> kHostKeys = {"relay_from", "smarthost", "transport", "local_domains", "open_relay",
                                           "greylisting"};

void Loader::domain(const std::string& name, const YAML::Node& node, Scenario& s) {
  DomainSpec d;
  d.name = name;
  d.where = where_of(node);
  if (auto v = smtp::validate_domain_or_literal(name); !v.ok() || name.front() == '[') {
    error_at(d.where, absl::StrCat("'", name, "' is not a domain name"));
  }
  if (node.IsNull()) {
    s.domains.push_back(std::move(d));
    return;
  }
  // An unknown key is reported, but the domain still counts: dropping it
  // would add false errors ("not in 'domains'") for every use of it.
  check_keys(node, kDomainKeys, absl::StrCat("domain '", name, "'"));
  if (!node.IsMap()) return;
  if (auto users = node["users"]) {
    if (!users.IsSequence()) {
      error(users, "users must be a list, e.g. [alice, bob]");
    } else {
      for (const auto& u : users) {
        UserSpec user;
        if (u.IsScalar()) {
          user.name = absl::AsciiStrToLower(u.as<std::string>());
        } else if (check_keys(u, {"name", "password", "quota"}, "a user")) {
          if (!u["name"]) {
            error(u, "a user needs a name");
            continue;
          }
          user.name = absl::AsciiStrToLower(str(u["name"], "name").value_or(""));
          if (auto p = u["password"]) user.password = str(p, "password").value_or(user.password);
          if (auto q = u["quota"]) {
            auto size = parse_scenario_size(str(q, "quota").value_or(""));
            if (!size.ok()) error(q, absl::StrCat("quota: ", size.status().message()));
            else user.quota = *size;
          }
        }
        if (!user.name.empty() && !smtp::parse_mailbox(user.name + "@" + name).ok()) {
          error(u, absl::StrCat("'", user.name, "' cannot be the local part of an address"));
          continue;
        }
        d.users.push_back(std::move(user));
      }
    }
  }
  if (auto mx = node["mx"]) d.mx = mx_list(mx, "mx");
  if (auto n = node["null_mx"]) d.null_mx = boolean(n, "null_mx").value_or(false);
  if (auto n = node["dns"]) {
    const std::string v = absl::AsciiStrToLower(str(n, "dns").value_or(""));
    const auto failure = sim::parse_dns_failure(v);
    if (!failure || *failure == sim::DnsFailure::kNone) {
      error(n, absl::StrCat("dns must be nxdomain, servfail or timeout", suggestion(v, {"nxdomain", "servfail", "timeout"})));
    } else {
      d.dns_failure = *failure;
    }
  }
  if (auto n = node["smarthost"]) {
    d.smarthost = absl::AsciiStrToLower(str(n, "smarthost").value_or(""));
    host_references_.push_back({d.smarthost, where_of(n)});
  }
  if (auto n = node["greylisting"]) d.greylisting = greylisting(n);
  if (auto n = node["rate_limit"]) {
    if (check_keys(n, {"messages", "per"}, "rate_limit")) {
      if (!n["messages"]) {
        error(n, "rate_limit needs 'messages' (how many per 'per')");
      } else {
        agents::RateLimitSettings limit;
        limit.max_messages = integer(n["messages"], "rate_limit.messages", 1, 1000000).value_or(limit.max_messages);
        if (auto v = n["per"]) limit.window = duration(v, "rate_limit.per").value_or(limit.window);
        d.rate_limit = limit;
      }
    }
  }
  if (auto n = node["max_message_size"]) {
    auto size = parse_scenario_size(str(n, "max_message_size").value_or(""));
    if (!size.ok()) error(n, absl::StrCat("max_message_size: ", size.status().message()));
    else d.max_message_size = *size;
  }
  if (auto n = node["quota_full"]) {
    const std::string v = str(n, "quota_full").value_or("");
    if (v != "temporary" && v != "permanent") error(n, "quota_full must be temporary (452) or permanent (552)");
    d.quota_permanent = v == "permanent";
  }
  if (auto n = node["pipelining"]) d.pipelining = boolean(n, "pipelining").value_or(true);
  if (auto n = node["connection_cache"]) {
    agents::ConnectionCacheSettings cache{.enabled = true};
    bool on = false;
    if (n.IsScalar() && !YAML::convert<bool>::decode(n, on)) {
      error(n, "connection_cache must be true, false, or a mapping such as {idle: 2s, reuse_count: 100}");
    } else if (n.IsScalar()) {
      if (on) d.connection_cache = cache;
    } else if (check_keys(n, {"idle", "reuse_time", "reuse_count"}, "connection_cache")) {
      // Zero would quietly turn the cache off: say so instead.
      auto positive = [this](const YAML::Node& v, const std::string& what, absl::Duration fallback) {
        const absl::Duration d = duration(v, what).value_or(fallback);
        if (d > absl::ZeroDuration()) return d;
        error(v, absl::StrCat(what, " must be longer than 0s (to turn the cache off, leave connection_cache out)"));
        return fallback;
      };
      if (auto v = n["idle"]) cache.idle_limit = positive(v, "connection_cache.idle", cache.idle_limit);
      if (auto v = n["reuse_time"]) {
        cache.reuse_time_limit = positive(v, "connection_cache.reuse_time", cache.reuse_time_limit);
      }
      if (auto v = n["reuse_count"]) {
        cache.reuse_count_limit = integer(v, "connection_cache.reuse_count", 0, 1000000).value_or(cache.reuse_count_limit);
      }
      d.connection_cache = cache;
    }
  }
  if (auto n = node["relay_from"]) {
    d.relay_from = host_list(n, "relay_from");
    for (const auto& h : d.relay_from) host_references_.push_back({h, where_of(n)});
  }
  if (auto n = node["tls"]) d.tls = tls(n);
  s.domains.push_back(std::move(d));
}

std::optional<std::string> Loader::one_of(const YAML::Node& node, const std::string& what,
                                          const std::vector<std::string>& allowed) {
  auto v = str(node, what);
  if (!v) return std::nullopt;
  const std::string lower = absl::AsciiStrToLower(*v);
  if (std::find(allowed.begin(), allowed.end(), lower) == allowed.end()) {
    error(node, absl::StrCat(what, " must be one of: ", absl::StrJoin(allowed, ", "), " (not '", *v, "')"));
    return std::nullopt;
  }
  return lower;
}

std::optional<TlsSpec> Loader::tls(const YAML::Node& n) {
  TlsSpec t;
  t.where = where_of(n);
  if (n.IsScalar()) {  // "tls: true" (all defaults) or "tls: false"
    if (boolean(n, "tls").value_or(false)) return t;
    return std::nullopt;
  }
  if (!check_keys(n, kTlsKeys, "tls")) return std::nullopt;
  static const std::vector<std::string> kLevels = {"none", "may", "encrypt", "verify"};
  static const std::vector<std::string> kVersions = {"1.0", "1.1", "1.2", "1.3"};
  if (auto v = n["certificate"]) {
    if (auto s = one_of(v, "tls.certificate", tls::certificate_problem_names())) {
      t.certificate = *tls::parse_certificate_problem(*s);
    }
  }
  if (auto v = n["starttls"]) {
    if (auto s = one_of(v, "tls.starttls", {"offered", "not_offered", "refused"})) {
      t.starttls = *s == "offered" ? TlsSpec::StartTls::kOffered
                   : *s == "refused" ? TlsSpec::StartTls::kRefused
                                     : TlsSpec::StartTls::kNotOffered;
    }
  }
  // one_of() has checked each value against the very names these parsers take.
  if (auto v = n["min_version"]) {
    if (auto s = one_of(v, "tls.min_version", kVersions)) t.min_version = *tls::parse_tls_version(*s);
  }
  if (auto v = n["max_version"]) {
    if (auto s = one_of(v, "tls.max_version", kVersions)) t.max_version = *tls::parse_tls_version(*s);
  }
  if (t.min_version > t.max_version) error(n, "tls.min_version is above tls.max_version");
  if (auto v = n["outgoing"]) {
    if (auto s = one_of(v, "tls.outgoing", kLevels)) t.outgoing = *agents::parse_tls_level(*s);
  }
  if (auto v = n["submission"]) {
    if (auto s = one_of(v, "tls.submission", kLevels)) t.submission = *agents::parse_tls_level(*s);
  }
  if (auto v = n["submission_port"]) {
    t.submission_port = std::stoi(one_of(v, "tls.submission_port", {"587", "465"}).value_or("587"));
  }
  return t;
}

void Loader::attacker(const YAML::Node& n, Scenario& s) {
  if (!n.IsMap()) {
    error(n, "attacker is a mapping, e.g. {between: [mx.example.org, mx.example.net], strip_starttls: true}");
    return;
  }
  if (!check_keys(n, {"between", "strip_starttls"}, "attacker")) return;
  AttackerSpec a;
  a.where = where_of(n);
  if (!n["between"]) {
    error(n, "attacker needs 'between': the two hosts whose link it sits on");
    return;
  }
  a.between = host_list(n["between"], "attacker.between");
  if (a.between.size() != 2) {
    error(n["between"], "attacker.between names exactly two hosts");
    return;
  }
  for (const auto& h : a.between) host_references_.push_back({h, where_of(n["between"])});
  if (auto v = n["strip_starttls"]) a.strip_starttls = boolean(v, "attacker.strip_starttls").value_or(true);
  s.attackers.push_back(std::move(a));
}

std::optional<agents::GreylistSettings> Loader::greylisting(const YAML::Node& n) {
  // Unsaid settings keep the policy's own defaults (postgrey's).
  agents::GreylistSettings settings;
  if (n.IsScalar()) {
    if (boolean(n, "greylisting").value_or(false)) return settings;
  } else if (check_keys(n, {"delay"}, "greylisting")) {
    if (auto v = n["delay"]) settings.delay = duration(v, "greylisting.delay").value_or(settings.delay);
    return settings;
  }
  return std::nullopt;
}

void Loader::host(const std::string& name, const YAML::Node& node, Scenario& s) {
  HostSpec h;
  h.name = name;
  h.where = where_of(node);
  if (!smtp::validate_domain_or_literal(name).ok()) error_at(h.where, absl::StrCat("'", name, "' is not a host name"));
  if (!node.IsNull() && check_keys(node, kHostKeys, absl::StrCat("host '", name, "'"))) {
    if (auto n = node["relay_from"]) {
      h.relay_from = host_list(n, "relay_from");
      for (const auto& r : h.relay_from) host_references_.push_back({r, where_of(n)});
    }
    if (auto n = node["smarthost"]) {
      h.smarthost = absl::AsciiStrToLower(str(n, "smarthost").value_or(""));
      host_references_.push_back({h.smarthost, where_of(n)});
    }
    if (auto n = node["transport"]) {
      if (!n.IsMap()) {
        error(n, "transport must be a mapping from domain to next-hop host, e.g. {example.net: relay2.example.com}");
      } else {
        for (const auto& kv : n) {
          const std::string next = absl::AsciiStrToLower(str(kv.second, "transport").value_or(""));
          h.transport[absl::AsciiStrToLower(kv.first.as<std::string>())] = next;
          host_references_.push_back({next, where_of(kv.second)});
        }
      }
    }
    if (auto n = node["local_domains"]) h.local_domains = host_list(n, "local_domains");
    if (auto n = node["open_relay"]) h.open_relay = boolean(n, "open_relay").value_or(false);
    if (auto n = node["greylisting"]) h.greylisting = HostGreylisting{greylisting(n)};
  }
  s.hosts.push_back(std::move(h));
}

}  // namespace smtplab::scenarios::loading
