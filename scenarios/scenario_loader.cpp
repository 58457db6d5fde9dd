// The scenario document as a whole; see scenario_loader_internal.hpp.
#include "scenarios/scenario_loader_internal.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/absl_string_view.hpp"
#include "scenarios/yaml_diagnosis.hpp"
#include "sim/time_text.hpp"

namespace smtplab::scenarios::loading {

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

}  // namespace

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

const std::vector<std::string> kTopKeys = {"title", "summary", "lesson", "seed", "max_duration", "latency",
                                          "domains", "hosts", "send", "actions", "expect", "attacker"};

// YAML wants the keys of a mapping unique (YAML 1.2 3.2.1.1), but the
// parser keeps both and the loader would read one of them: an instructor's
// second `example.org:` block would silently replace the first.
void Loader::check_unique_keys(const YAML::Node& node) {
  if (node.IsSequence()) {
    for (const auto& item : node) check_unique_keys(item);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, Where> seen;
  for (const auto& kv : node) {
    if (kv.first.IsScalar()) {
      const auto [it, fresh] = seen.emplace(kv.first.Scalar(), where_of(kv.first));
      if (!fresh) {
        error(kv.first, absl::StrCat("'", kv.first.Scalar(), "' appears twice in this mapping (first at line ",
                                     it->second.line, ", column ", it->second.column,
                                     "); the second would replace the first, so merge them into one"));
      }
    }
    check_unique_keys(kv.second);
  }
}

LoadResult Loader::load(const std::string& text) {
  LoadResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    YamlDiagnosis d = diagnose_yaml_error(text, e.mark.line, e.mark.column, e.msg);
    result.errors.push_back({file_, d.where, std::move(d.message)});
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
    check_unique_keys(root);
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
        // Domain names are case-insensitive (RFC 5321 2.4): Example.org is example.org.
        std::map<std::string, std::pair<std::string, Where>> names;  // lower case -> as written, where
        for (const auto& kv : n) {
          const std::string name = absl::AsciiStrToLower(kv.first.as<std::string>());
          const auto [it, fresh] = names.emplace(name, std::pair{kv.first.Scalar(), where_of(kv.first)});
          if (fresh) {
            domain(name, kv.second, s);
          } else if (it->second.first != kv.first.Scalar()) {  // the same spelling twice is reported above
            error(kv.first, absl::StrCat("domain '", kv.first.Scalar(), "' is '", it->second.first,
                                         "' again (first at line ", it->second.second.line, ", column ",
                                         it->second.second.column, "): domain names ignore case, so merge the two"));
          }
        }
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
  // Faults are answers of an MTA or MSA (a host in `hosts:` may be an MX
  // host too: each is named once).
  std::vector<std::string> mtas;
  auto add_mta = [&mtas](const std::string& h) {
    if (std::find(mtas.begin(), mtas.end(), h) == mtas.end()) mtas.push_back(h);
  };
  for (const auto& d : s.domains) {
    add_mta("submit." + d.name);
    for (const auto& m : mx_hosts_of(d)) add_mta(m.host);
  }
  for (const auto& h : s.hosts) add_mta(h.name);
  for (const auto& [host, where] : fault_hosts_) {
    if (std::find(mtas.begin(), mtas.end(), host) == mtas.end()) {
      error_at(where, absl::StrCat("'", host, "' is not an MTA or MSA, and faults are answers of one; they go on ",
                                   "one of: ", absl::StrJoin(mtas, ", ")));
    }
  }
  // An action after the end of the run would never happen.
  for (const auto& a : s.actions) {
    const absl::Duration last = a.kind == ActionSpec::Kind::kSend ? a.at + a.send.interval * (a.send.count - 1) : a.at;
    if (last > s.max_duration) {
      error_at(a.where, absl::StrCat("this action is at ", sim::duration_text(last), ", after the run ends (max_duration ",
                                     sim::duration_text(s.max_duration), ")"));
    }
  }
}

}  // namespace smtplab::scenarios::loading

namespace smtplab::scenarios {

using loading::Loader;

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

namespace {

// One `number unit` term's unit, longest spelling first so "ms" is not read
// as "m" followed by a stray "s".
struct DurationUnit {
  std::string_view name;
  absl::Duration size;
};
constexpr std::string_view kDurationExamples = "examples: 300s, 5m, 1h30m, 1d, 250ms, or 90 for seconds";

std::optional<absl::Duration> unit_named(std::string_view text, std::size_t& length) {
  static const DurationUnit kUnits[] = {{"ns", absl::Nanoseconds(1)}, {"us", absl::Microseconds(1)},
                                        {"ms", absl::Milliseconds(1)}, {"s", absl::Seconds(1)},
                                        {"m", absl::Minutes(1)},       {"h", absl::Hours(1)},
                                        {"d", absl::Hours(24)}};
  for (const auto& u : kUnits) {
    if (text.starts_with(u.name)) {
      length = u.name.size();
      return u.size;
    }
  }
  return std::nullopt;
}

// digits, optionally "." and more digits; no sign, no exponent.
std::optional<double> leading_number(std::string_view text, std::size_t& length) {
  auto digits = [&](std::size_t from) {
    std::size_t i = from;
    while (i < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) ++i;
    return i;
  };
  std::size_t end = digits(0);
  if (end == 0) return std::nullopt;
  if (end < text.size() && text[end] == '.') {
    const std::size_t fraction_end = digits(end + 1);
    if (fraction_end == end + 1) return std::nullopt;
    end = fraction_end;
  }
  double value = 0;
  if (!absl::SimpleAtod(av(text.substr(0, end)), &value)) return std::nullopt;
  length = end;
  return value;
}

}  // namespace

absl::StatusOr<absl::Duration> parse_scenario_duration(const std::string& text) {
  // The grammar (the schema's definitions/duration pattern says the same):
  //   duration := number | (number unit)+      number := digits ["." digits]
  //   unit     := ns | us | ms | s | m | h | d  (a bare number is seconds)
  // Both are tested against scenarios/testdata/durations.txt.
  const std::string_view all(text);
  auto refuse = [&] {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a duration (", av(kDurationExamples), ")"));
  };
  std::size_t length = 0;
  std::optional<double> number = leading_number(all, length);
  if (!number) return refuse();
  absl::Duration total;
  if (length == all.size()) {
    total = absl::Seconds(*number);
  } else {
    std::string_view rest = all;
    while (!rest.empty()) {
      number = leading_number(rest, length);
      if (!number) return refuse();
      rest.remove_prefix(length);
      const std::optional<absl::Duration> unit = unit_named(rest, length);
      if (!unit) return refuse();
      rest.remove_prefix(length);
      total += *unit * *number;
    }
  }
  if (total > kLongestScenarioDuration) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is longer than a scenario can run (at most ",
                                                   sim::duration_text(kLongestScenarioDuration), ")"));
  }
  return total;
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
