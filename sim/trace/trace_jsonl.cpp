#include "sim/trace/trace_jsonl.hpp"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace smtplab::sim {
namespace {

using Json = nlohmann::ordered_json;  // keys stay in the order written

template <typename T>
absl::Status read_field(const Json& j, const char* key, T& out, bool required, std::size_t line) {
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) return absl::InvalidArgumentError(absl::StrCat("line ", line, ": missing \"", key, "\""));
    return absl::OkStatus();
  }
  try {
    out = it->template get<T>();
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("line ", line, ": \"", key, "\" has the wrong type"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string to_json_line(const TraceEvent& e) {
  Json j;
  j["t"] = e.time_us;
  j["seq"] = e.sequence;
  j["kind"] = name_of(e.kind);
  if (!e.host.empty()) j["host"] = e.host;
  if (!e.agent.empty()) j["agent"] = e.agent;
  if (e.connection != 0) j["conn"] = e.connection;
  if (!e.message.empty()) j["msg"] = e.message;
  if (!e.peer.empty()) j["peer"] = e.peer;
  if (!e.text.empty()) j["text"] = e.text;
  if (e.code != 0) j["code"] = e.code;
  if (!e.explain.empty()) j["explain"] = e.explain;
  if (!e.details.empty()) {
    Json d = Json::object();
    for (const auto& [k, v] : e.details) d[k] = v;
    j["details"] = std::move(d);
  }
  // Invalid UTF-8 (a client may send any octets) is replaced, not fatal.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<TraceEvent> parse_json_line(std::string_view line, std::size_t line_number) {
  Json j;
  try {
    j = Json::parse(line.begin(), line.end());
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line_number, ", column ", e.byte, ": not valid JSON"));
  }
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat("line ", line_number, ": not a JSON object"));
  TraceEvent e;
  absl::Status s;
  const std::size_t n = line_number;
  if (!(s = read_field(j, "t", e.time_us, true, n)).ok()) return s;
  if (!(s = read_field(j, "seq", e.sequence, true, n)).ok()) return s;
  std::string kind;
  if (!(s = read_field(j, "kind", kind, true, n)).ok()) return s;
  if (auto known = event_kind_named(kind)) {
    e.kind = *known;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("line ", n, ": \"", kind, "\" is not a trace event kind"));
  }
  if (!(s = read_field(j, "host", e.host, false, n)).ok()) return s;
  if (!(s = read_field(j, "agent", e.agent, false, n)).ok()) return s;
  if (!(s = read_field(j, "conn", e.connection, false, n)).ok()) return s;
  if (!(s = read_field(j, "msg", e.message, false, n)).ok()) return s;
  if (!(s = read_field(j, "peer", e.peer, false, n)).ok()) return s;
  if (!(s = read_field(j, "text", e.text, false, n)).ok()) return s;
  if (!(s = read_field(j, "code", e.code, false, n)).ok()) return s;
  if (!(s = read_field(j, "explain", e.explain, false, n)).ok()) return s;
  if (auto it = j.find("details"); it != j.end()) {
    if (!it->is_object()) return absl::InvalidArgumentError(absl::StrCat("line ", n, ": \"details\" is not an object"));
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return absl::InvalidArgumentError(absl::StrCat("line ", n, ": details.", k, " is not a string"));
      e.details.emplace_back(k, v.get<std::string>());
    }
  }
  return e;
}

absl::Status write_jsonl(const std::vector<TraceEvent>& events, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  for (const auto& e : events) out << to_json_line(e) << '\n';
  out.flush();
  if (!out) return absl::UnavailableError(absl::StrCat("error writing ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TraceEvent>> read_jsonl(const std::string& path) {
  std::error_code ec;
  // Reading a folder as a stream throws inside libstdc++.
  if (std::filesystem::is_directory(path, ec)) return absl::InvalidArgumentError(absl::StrCat(path, ": is a folder, not a trace file"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<TraceEvent> events;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto e = parse_json_line(line, n);
    if (!e.ok()) {
      // "FILE: line 3, column 7: not valid JSON": where, then what.
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.status().message()));
    }
    events.push_back(*std::move(e));
  }
  if (!in.eof()) return absl::DataLossError(absl::StrCat(path, ": read error after line ", n));
  return events;
}

}  // namespace smtplab::sim
