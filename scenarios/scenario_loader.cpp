#include "scenarios/scenario_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/smtp/address.hpp"
#include "agents/smtp/reply.hpp"
#include "base/absl_string_view.hpp"
#include "scenarios/explanations.hpp"

namespace smtplab::scenarios {
namespace {

// Levenshtein distance, for "did you mean".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& wrong, const std::vector<std::string>& valid) {
  std::string best;
  std::size_t best_distance = SIZE_MAX;
  if (wrong.empty()) return {};
  for (const auto& v : valid) {
    const std::size_t d = edit_distance(absl::AsciiStrToLower(wrong), v);
    if (d < best_distance) {
      best_distance = d;
      best = v;
    }
  }
  if (best.empty() || best_distance > std::max<std::size_t>(2, wrong.size() / 3)) return {};
  return absl::StrCat("; did you mean '", best, "'?");
}

Where where_of(const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return {};
  return Where{m.line + 1, m.column + 1};
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  LoadResult load(const std::string& text);

 private:
  void error(const YAML::Node& node, std::string message) { errors_.push_back({file_, where_of(node), std::move(message)}); }
  void error_at(Where w, std::string message) { errors_.push_back({file_, w, std::move(message)}); }

  // Each mapping lists its keys; anything else is an error with a suggestion.
  bool check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& context) {
    if (!map.IsMap()) {
      error(map, absl::StrCat(context, " must be a mapping (key: value lines)"));
      return false;
    }
    bool ok = true;
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(kv.first, absl::StrCat("unknown key '", key, "' in ", context, suggestion(key, allowed),
                                     " (valid keys: ", absl::StrJoin(allowed, ", "), ")"));
        ok = false;
      }
    }
    return ok;
  }

  std::optional<std::string> str(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      error(node, absl::StrCat(what, " must be a single value, not a list or mapping"));
      return std::nullopt;
    }
    return node.as<std::string>();
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& what) {
    bool value = false;
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
      error(node, absl::StrCat(what, " must be true or false"));
      return std::nullopt;
    }
    return value;
  }

  std::optional<int> integer(const YAML::Node& node, const std::string& what, int min, int max) {
    int value = 0;
    if (!node.IsScalar() || !absl::SimpleAtoi(node.as<std::string>(), &value) || value < min || value > max) {
      error(node, absl::StrCat(what, " must be a whole number from ", min, " to ", max));
      return std::nullopt;
    }
    return value;
  }

  std::optional<absl::Duration> duration(const YAML::Node& node, const std::string& what) {
    auto s = str(node, what);
    if (!s) return std::nullopt;
    auto d = parse_scenario_duration(*s);
    if (!d.ok()) {
      error(node, absl::StrCat(what, ": ", d.status().message()));
      return std::nullopt;
    }
    return *d;
  }

  std::optional<std::string> address(const YAML::Node& node, const std::string& what) {
    auto s = str(node, what);
    if (!s) return std::nullopt;
    if (absl::EqualsIgnoreCase(av(*s), "postmaster")) return s;
    auto m = smtp::parse_mailbox(*s, /*allow_utf8=*/true);
    if (!m.ok()) {
      error(node, absl::StrCat(what, " '", *s, "' is not an email address: ", m.status().message()));
      return std::nullopt;
    }
    return absl::AsciiStrToLower(*s);
  }

  std::vector<std::string> address_list(const YAML::Node& node, const std::string& what) {
    std::vector<std::string> out;
    if (node.IsSequence()) {
      for (const auto& item : node) {
        if (auto a = address(item, what)) out.push_back(*a);
      }
    } else if (auto a = address(node, what)) {
      out.push_back(*a);
    }
    if (out.empty() && node.IsSequence()) error(node, absl::StrCat(what, " needs at least one address"));
    return out;
  }

  std::vector<std::string> host_list(const YAML::Node& node, const std::string& what) {
    std::vector<std::string> out;
    if (node.IsSequence()) {
      for (const auto& item : node) {
        if (auto h = str(item, what)) out.push_back(absl::AsciiStrToLower(*h));
      }
    } else if (auto h = str(node, what)) {
      out.push_back(absl::AsciiStrToLower(*h));
    }
    return out;
  }

  // MX records, as a list of host names (preferences 10, 20, ... in order)
  // or of {host, preference}; a name without a preference gets the one
  // after the previous record's. "." is the null MX (RFC 7505).
  std::vector<MxSpec> mx_list(const YAML::Node& node, const std::string& what) {
    std::vector<MxSpec> out;
    if (!node.IsSequence()) {
      error(node, what + " must be a list of host names, or of {host, preference}");
      return out;
    }
    int preference = 10;
    for (const auto& m : node) {
      MxSpec spec{preference, {}};
      if (m.IsScalar()) {
        spec.host = absl::AsciiStrToLower(m.as<std::string>());
      } else if (!check_keys(m, {"host", "preference"}, "an MX record")) {
        continue;  // said already
      } else {
        spec.host = absl::AsciiStrToLower(str(m["host"], "host").value_or(""));
        if (auto p = m["preference"]) spec.preference = integer(p, "preference", 0, 65535).value_or(preference);
      }
      preference = spec.preference + 10;
      if (spec.host.empty()) error(m, "an MX record needs a host");
      else out.push_back(std::move(spec));
    }
    return out;
  }

  // "host" or "host:port".
  std::optional<HostPort> host_port(const YAML::Node& node, const std::string& what) {
    auto text = str(node, what);
    if (!text) return std::nullopt;
    HostPort out;
    const std::string lower = absl::AsciiStrToLower(*text);
    const auto colon = lower.find(':');
    out.host = lower.substr(0, colon);
    if (out.host.empty()) {
      error(node, what + " needs a host name, e.g. mx.example.net or mx.example.net:25");
      return std::nullopt;
    }
    if (colon != std::string::npos) {
      int port = 0;
      if (!absl::SimpleAtoi(lower.substr(colon + 1), &port) || port < 1 || port > 65535) {
        error(node, absl::StrCat(what, ": '", lower.substr(colon + 1), "' is not a port (1 to 65535)"));
        return std::nullopt;
      }
      out.port = port;
    }
    return out;
  }

  void domain(const std::string& name, const YAML::Node& node, Scenario& s);
  std::optional<TlsSpec> tls(const YAML::Node& node);
  void attacker(const YAML::Node& node, Scenario& s);
  // A string that must be one of `allowed`; the error lists them.
  std::optional<std::string> one_of(const YAML::Node& node, const std::string& what,
                                    const std::vector<std::string>& allowed);
  void host(const std::string& name, const YAML::Node& node, Scenario& s);
  void action(const YAML::Node& node, Scenario& s, bool send_shorthand);
  bool send(const YAML::Node& node, SendSpec& out);
  void expectation(const YAML::Node& node, Scenario& s);
  void cross_check(Scenario& s);

  std::string file_;
  std::vector<LoadError> errors_;
  std::vector<std::pair<std::string, Where>> host_references_;  // to check after loading
  std::vector<std::pair<std::string, Where>> fault_hosts_;      // must be MTAs
};

const std::vector<std::string> kTopKeys = {"title", "summary", "lesson", "seed", "max_duration", "latency",
                                          "domains", "hosts", "send", "actions", "expect", "attacker"};
const std::vector<std::string> kDomainKeys = {"users", "mx", "null_mx", "dns", "smarthost", "greylisting",
                                             "rate_limit", "max_message_size", "quota_full", "pipelining",
                                             "connection_cache", "relay_from", "tls"};
const std::vector<std::string> kTlsKeys = {"certificate", "starttls", "min_version", "max_version", "outgoing",
                                           "submission", "submission_port"};
const std::vector<std::string> kHostKeys = {"relay_from", "smarthost", "transport", "local_domains", "open_relay"};
const std::vector<std::string> kSendKeys = {"at", "from", "to", "subject", "body", "auth", "via", "count",
                                           "interval", "pipelining", "tls"};
const std::vector<std::string> kActionKinds = {"send", "host_down", "host_up", "partition", "heal", "dns", "fault"};
const std::vector<std::string> kExpectKinds = {"delivered", "not_delivered", "bounced", "reply", "deferred",
                                              "queue_empty", "event"};

LoadResult Loader::load(const std::string& text) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    result.errors.push_back({file_, {e.mark.line + 1, e.mark.column + 1}, absl::StrCat("not valid YAML: ", e.msg)});
    return result;
  } catch (const YAML::Exception& e) {
    result.errors.push_back({file_, {}, absl::StrCat("not valid YAML: ", e.what())});
    return result;
  }
  Scenario s;
  s.file = file_;
  if (!root.IsMap()) {
    result.errors.push_back({file_, where_of(root), "a scenario must be a mapping with keys like 'domains' and 'send'"});
    return result;
  }
  try {
    check_keys(root, kTopKeys, "the scenario");
    if (auto n = root["title"]) s.title = str(n, "title").value_or("");
    if (auto n = root["summary"]) s.summary = str(n, "summary").value_or("");
    if (auto n = root["lesson"]) {
      if (check_keys(n, {"before", "after"}, "lesson")) {
        if (auto b = n["before"]) s.lesson_before = str(b, "lesson.before").value_or("");
        if (auto a = n["after"]) s.lesson_after = str(a, "lesson.after").value_or("");
      }
    }
    if (auto n = root["seed"]) s.seed = static_cast<std::uint64_t>(integer(n, "seed", 0, 2147483647).value_or(1));
    if (auto n = root["max_duration"]) s.max_duration = duration(n, "max_duration").value_or(s.max_duration);
    if (auto n = root["latency"]) s.latency = duration(n, "latency").value_or(s.latency);
    if (auto n = root["domains"]) {
      if (!n.IsMap()) {
        error(n, "domains must be a mapping: each domain name, then its settings");
      } else {
        for (const auto& kv : n) domain(absl::AsciiStrToLower(kv.first.as<std::string>()), kv.second, s);
      }
    } else {
      error(root, "a scenario needs 'domains' (at least one domain with its users)");
    }
    if (auto n = root["hosts"]) {
      if (!n.IsMap()) {
        error(n, "hosts must be a mapping: each host name, then its settings");
      } else {
        for (const auto& kv : n) host(absl::AsciiStrToLower(kv.first.as<std::string>()), kv.second, s);
      }
    }
    if (auto n = root["send"]) {
      if (n.IsSequence()) {
        for (const auto& item : n) action(item, s, true);
      } else {
        action(n, s, true);
      }
    }
    if (auto n = root["actions"]) {
      if (!n.IsSequence()) {
        error(n, "actions must be a list (lines starting with '- ')");
      } else {
        for (const auto& item : n) action(item, s, false);
      }
    }
    if (auto n = root["attacker"]) {
      if (n.IsSequence()) {
        for (const auto& item : n) attacker(item, s);
      } else {
        attacker(n, s);
      }
    }
    if (auto n = root["expect"]) {
      if (!n.IsSequence()) {
        error(n, "expect must be a list (lines starting with '- ')");
      } else {
        for (const auto& item : n) expectation(item, s);
      }
    }
    cross_check(s);
  } catch (const YAML::Exception& e) {
    errors_.push_back({file_, {e.mark.line + 1, e.mark.column + 1}, absl::StrCat("unexpected YAML: ", e.msg)});
  }
  result.errors = std::move(errors_);
  std::sort(result.errors.begin(), result.errors.end(), [](const LoadError& a, const LoadError& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  if (result.errors.empty()) {
    std::stable_sort(s.actions.begin(), s.actions.end(), [](const ActionSpec& a, const ActionSpec& b) { return a.at < b.at; });
    result.scenario = std::move(s);
  }
  return result;
}

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
  if (auto n = node["greylisting"]) {
    // Unsaid settings keep the policy's own defaults (postgrey's).
    agents::GreylistSettings greylisting;
    if (n.IsScalar()) {
      if (boolean(n, "greylisting").value_or(false)) d.greylisting = greylisting;
    } else if (check_keys(n, {"delay"}, "greylisting")) {
      if (auto v = n["delay"]) greylisting.delay = duration(v, "greylisting.delay").value_or(greylisting.delay);
      d.greylisting = greylisting;
    }
  }
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
  }
  s.hosts.push_back(std::move(h));
}

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
    } else if (!details({"to", "host", "text", "count"})) {
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
      error(v, "event needs a mapping with at least 'kind', e.g. {kind: queue.defer, host: mx.example.org}");
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

void Loader::cross_check(Scenario& s) {
  const std::vector<std::string> hosts = scenario_host_names(s);
  for (const auto& [host, where] : host_references_) {
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
      error_at(where, absl::StrCat("no host named '", host, "'", suggestion(host, hosts),
                                   " (hosts: ", absl::StrJoin(hosts, ", "), ")"));
    }
  }
  // Authenticated senders must be users of a domain of the scenario.
  for (const auto& a : s.actions) {
    if (a.kind != ActionSpec::Kind::kSend || a.send.via || !a.send.authenticate) continue;
    const auto at = a.send.from.find('@');
    const std::string local = a.send.from.substr(0, at), domain = a.send.from.substr(at + 1);
    const auto d = std::find_if(s.domains.begin(), s.domains.end(), [&](const DomainSpec& x) { return x.name == domain; });
    if (d == s.domains.end()) {
      std::vector<std::string> names;
      for (const auto& x : s.domains) names.push_back(x.name);
      error_at(a.send.from_where, absl::StrCat("the sender's domain '", domain, "' is not in 'domains'",
                                               suggestion(domain, names),
                                               " Declare it, or give 'via' to send from outside."));
    } else if (std::none_of(d->users.begin(), d->users.end(), [&](const UserSpec& u) { return u.name == local; })) {
      std::vector<std::string> users;
      for (const auto& u : d->users) users.push_back(u.name);
      error_at(a.send.from_where, absl::StrCat("'", local, "' is not a user of ", domain, suggestion(local, users),
                                               " (add it to the domain's users to let it log in to the MSA)"));
    }
  }
  // Faults are answers of an MTA or MSA: other hosts never speak SMTP as servers.
  std::vector<std::string> mtas;
  for (const auto& d : s.domains) {
    mtas.push_back("submit." + d.name);
    for (const auto& m : mx_hosts_of(d)) mtas.push_back(m.host);
  }
  for (const auto& h : s.hosts) mtas.push_back(h.name);
  for (const auto& [host, where] : fault_hosts_) {
    if (std::find(mtas.begin(), mtas.end(), host) == mtas.end()) {
      error_at(where, absl::StrCat("'", host, "' is not an MTA or MSA, so it never answers as a server; faults go on ",
                                   "one of: ", absl::StrJoin(mtas, ", ")));
    }
  }
  // An action after the end of the run would never happen.
  for (const auto& a : s.actions) {
    const absl::Duration last = a.kind == ActionSpec::Kind::kSend ? a.at + a.send.interval * (a.send.count - 1) : a.at;
    if (last > s.max_duration) {
      error_at(a.where, absl::StrCat("this action is at ", absl::FormatDuration(last), ", after the run ends (max_duration ",
                                     absl::FormatDuration(s.max_duration), ")"));
    }
  }
}

}  // namespace

std::string LoadError::to_string() const {
  if (where.line == 0) return absl::StrCat(file, ": ", message);
  return absl::StrCat(file, ":", where.line, ":", where.column, ": ", message);
}

std::string LoadResult::error_text() const {
  std::vector<std::string> lines;
  for (const auto& e : errors) lines.push_back(e.to_string());
  return absl::StrJoin(lines, "\n");
}

LoadResult load_scenario_text(const std::string& text, const std::string& name) { return Loader(name).load(text); }

LoadResult load_scenario_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    // Reading a folder as a stream throws inside libstdc++.
    LoadResult r;
    r.errors.push_back({path, {}, "is a folder, not a scenario file (smtplab list --library FOLDER lists one)"});
    return r;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, {}, "cannot open the file"});
    return r;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return load_scenario_text(text, path);
}

std::vector<std::string> scenario_host_names(const Scenario& s) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& h) {
    if (std::find(out.begin(), out.end(), h) == out.end()) out.push_back(h);
  };
  for (const auto& d : s.domains) {
    add("laptop." + d.name);
    add("submit." + d.name);
    add("mail." + d.name);
    for (const auto& m : mx_hosts_of(d)) add(m.host);
  }
  for (const auto& h : s.hosts) add(h.name);
  for (const auto& a : s.actions) {
    // Senders from outside the scenario's domains get a host of their own.
    if (a.kind == ActionSpec::Kind::kSend && a.send.via) add("laptop." + a.send.from.substr(a.send.from.find('@') + 1));
  }
  return out;
}

absl::StatusOr<absl::Duration> parse_scenario_duration(const std::string& text) {
  std::string t(absl::StripAsciiWhitespace(text));
  double number = 0;
  if (absl::SimpleAtod(t, &number)) {
    if (number < 0) return absl::InvalidArgumentError("must not be negative");
    return absl::Seconds(number);
  }
  if (!t.empty() && t.back() == 'd' && absl::SimpleAtod(t.substr(0, t.size() - 1), &number) && number >= 0) {
    return absl::Hours(24 * number);
  }
  absl::Duration d;
  if (!absl::ParseDuration(t, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("'", t, "' is not a duration (examples: 300s, 5m, 2h, 1d, 250ms)"));
  }
  return d;
}

absl::StatusOr<std::size_t> parse_scenario_size(const std::string& text) {
  std::string t(absl::StripAsciiWhitespace(text));
  std::size_t factor = 1;
  if (!t.empty() && (t.back() == 'k' || t.back() == 'K')) factor = 1024;
  if (!t.empty() && (t.back() == 'm' || t.back() == 'M')) factor = 1024 * 1024;
  if (factor != 1) t.pop_back();
  std::uint64_t n = 0;
  if (!absl::SimpleAtoi(t, &n)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size (examples: 1000, 10k, 2M)"));
  }
  return static_cast<std::size_t>(n * factor);
}

}  // namespace smtplab::scenarios
