// The scenario loader's inside, shared by its files: the Loader that walks
// the YAML document and collects every error with its position, and the
// helpers for "did you mean". Only scenario_loader*.cpp include this.
//
// scenario_loader.cpp          the document, cross-checks, durations, sizes
// scenario_loader_world.cpp    domains, their TLS, hosts, attackers
// scenario_loader_actions.cpp  sends, timed actions, expectations
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/smtp/address.hpp"
#include "base/absl_string_view.hpp"
#include "scenarios/scenario_loader.hpp"

namespace smtplab::scenarios::loading {

// " did you mean 'x'?" when `wrong` is close to one of `valid`, else "".
std::string suggestion(const std::string& wrong, const std::vector<std::string>& valid);
Where where_of(const YAML::Node& node);

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  LoadResult load(const std::string& text);

 private:
  void error(const YAML::Node& node, std::string message) { errors_.push_back({file_, where_of(node), std::move(message)}); }
  void error_at(Where w, std::string message) { errors_.push_back({file_, w, std::move(message)}); }

  // Every mapping in the file, at any depth, has each key once.
  void check_unique_keys(const YAML::Node& node);
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
  // `greylisting: true | false | {delay}`: the settings, or nullopt for off.
  std::optional<agents::GreylistSettings> greylisting(const YAML::Node& node);
  void action(const YAML::Node& node, Scenario& s, bool send_shorthand);
  bool send(const YAML::Node& node, SendSpec& out);
  void expectation(const YAML::Node& node, Scenario& s);
  void cross_check(Scenario& s);

  std::string file_;
  std::vector<LoadError> errors_;
  std::vector<std::pair<std::string, Where>> host_references_;  // to check after loading
  std::vector<std::pair<std::string, Where>> fault_hosts_;      // must be MTAs
};

}  // namespace smtplab::scenarios::loading
