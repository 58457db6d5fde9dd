// The three report formats of `smtplab conform`.
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/absl_string_view.hpp"
#include "conformance/runner.hpp"

namespace smtplab::conformance {
namespace {

std::string profile_name(Profile p) {
  return p == Profile::kMx ? "mx" : p == Profile::kSubmission ? "submission" : "sink";
}

std::string paint(const char* code, std::string_view s, bool color) {
  return color ? absl::StrCat("\x1b[", code, "m", av(s), "\x1b[0m") : std::string(s);
}

// XML 1.0 cannot carry most control characters even escaped; show them as \xNN.
std::string xml_escape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t') {
          absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
        } else if (c >= 0x80) {
          absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));  // keep the XML valid whatever the server sent
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string transcript_text(const std::vector<TranscriptLine>& lines, std::size_t last_n) {
  std::string out;
  const std::size_t start = lines.size() > last_n ? lines.size() - last_n : 0;
  for (std::size_t i = start; i < lines.size(); ++i) absl::StrAppend(&out, std::string(1, lines[i].who), ": ", lines[i].text, "\n");
  return out;
}

}  // namespace

std::string console_report(const Target& t, const std::vector<CheckResult>& results, bool color) {
  std::string out = absl::StrCat("smtplab conform: ", t.host, ":", t.port, " (profile ", profile_name(t.profile), ")\n");
  std::string group;
  std::map<Outcome, int> counts;
  int must_failed = 0;
  double total = 0;
  for (const auto& r : results) {
    if (r.check->group != group) {
      group = r.check->group;
      absl::StrAppend(&out, "\n", paint("1", group, color), "\n");
    }
    ++counts[r.verdict.outcome];
    total += r.seconds;
    if (r.verdict.outcome == Outcome::kFail && r.check->level == Level::kMust) ++must_failed;
    const char* code = r.verdict.outcome == Outcome::kPass   ? "32"
                       : r.verdict.outcome == Outcome::kFail ? "31"
                       : r.verdict.outcome == Outcome::kWarn ? "33"
                                                             : "2";
    absl::StrAppend(&out, "  ", paint(code, outcome_name(r.verdict.outcome), color), "  ",
                    absl::StrFormat("%-6s", level_name(r.check->level)), " ", r.check->title, "  [", r.check->id, "; ",
                    r.check->reference, "]\n");
    // A pass says nothing more, except in the TLS group, where what was
    // negotiated and which certificate came back are facts worth reading.
    if (!r.verdict.message.empty() && (r.verdict.outcome != Outcome::kPass || r.check->group == "TLS")) {
      absl::StrAppend(&out, "          ", r.verdict.message, "\n");
    }
    if (r.verdict.outcome == Outcome::kFail) {
      // The few lines that show it.
      std::string lines = transcript_text(r.transcript, 8);
      for (std::size_t pos = 0; pos < lines.size();) {
        const auto eol = lines.find('\n', pos);
        absl::StrAppend(&out, "            ", paint("2", lines.substr(pos, eol - pos), color), "\n");
        pos = eol + 1;
      }
    }
  }
  absl::StrAppend(&out, "\n", counts[Outcome::kPass], " passed, ", counts[Outcome::kFail], " failed (", must_failed,
                  " MUST), ", counts[Outcome::kWarn], " warnings, ", counts[Outcome::kSkip], " skipped in ",
                  absl::StrFormat("%.2f", total), " s\n");
  absl::StrAppend(&out, must_failed == 0 ? paint("32", "Verdict: every MUST holds", color)
                                         : paint("31", "Verdict: MUST requirements fail", color),
                  "\n");
  return out;
}

std::string json_check_list(const std::vector<const Check*>& checks) {
  nlohmann::ordered_json j = nlohmann::ordered_json::array();
  for (const auto* check : checks) {
    nlohmann::ordered_json c;
    c["id"] = check->id;
    c["group"] = check->group;
    c["title"] = check->title;
    c["reference"] = check->reference;
    c["level"] = level_name(check->level);
    j.push_back(std::move(c));
  }
  return j.dump(2) + "\n";
}

std::string json_report(const Target& t, const std::vector<CheckResult>& results) {
  nlohmann::ordered_json j;
  j["server"] = absl::StrCat(t.host, ":", t.port);
  j["profile"] = profile_name(t.profile);
  j["must_requirements_hold"] = must_requirements_hold(results);
  auto& checks = j["checks"] = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json c;
    c["id"] = r.check->id;
    c["group"] = r.check->group;
    c["title"] = r.check->title;
    c["reference"] = r.check->reference;
    c["level"] = level_name(r.check->level);
    c["outcome"] = outcome_name(r.verdict.outcome);
    c["message"] = r.verdict.message;
    c["seconds"] = r.seconds;
    auto& transcript = c["transcript"] = nlohmann::ordered_json::array();
    for (const auto& line : r.transcript) transcript.push_back(absl::StrCat(std::string(1, line.who), ": ", line.text));
    checks.push_back(std::move(c));
  }
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string junit_report(const Target& t, const std::vector<CheckResult>& results) {
  std::map<std::string, std::vector<const CheckResult*>> by_group;
  std::vector<std::string> order;
  for (const auto& r : results) {
    if (!by_group.count(r.check->group)) order.push_back(r.check->group);
    by_group[r.check->group].push_back(&r);
  }
  int failures = 0, skipped = 0;
  double total = 0;
  for (const auto& r : results) {
    failures += r.verdict.outcome == Outcome::kFail;
    skipped += r.verdict.outcome == Outcome::kSkip;
    total += r.seconds;
  }
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppend(&out, "<testsuites name=\"smtplab conform ", xml_escape(t.host), ":", t.port, "\" tests=\"",
                  results.size(), "\" failures=\"", failures, "\" skipped=\"", skipped, "\" time=\"",
                  absl::StrFormat("%.3f", total), "\">\n");
  for (const auto& g : order) {
    const auto& rs = by_group[g];
    int gf = 0, gs = 0;
    for (const auto* r : rs) {
      gf += r->verdict.outcome == Outcome::kFail;
      gs += r->verdict.outcome == Outcome::kSkip;
    }
    absl::StrAppend(&out, "  <testsuite name=\"", xml_escape(g), "\" tests=\"", rs.size(), "\" failures=\"", gf,
                    "\" skipped=\"", gs, "\">\n");
    for (const auto* r : rs) {
      absl::StrAppend(&out, "    <testcase classname=\"", xml_escape(g), "\" name=\"", xml_escape(r->check->id), " (",
                      av(level_name(r->check->level)), ") ", xml_escape(r->check->title), "\" time=\"",
                      absl::StrFormat("%.3f", r->seconds), "\">\n");
      if (r->verdict.outcome == Outcome::kFail) {
        absl::StrAppend(&out, "      <failure message=\"", xml_escape(r->verdict.message), "\">",
                        xml_escape(absl::StrCat(r->check->reference, "\n", transcript_text(r->transcript, 40))),
                        "</failure>\n");
      } else if (r->verdict.outcome == Outcome::kSkip) {
        absl::StrAppend(&out, "      <skipped message=\"", xml_escape(r->verdict.message), "\"/>\n");
      } else if (r->verdict.outcome == Outcome::kWarn) {
        absl::StrAppend(&out, "      <system-out>WARNING: ", xml_escape(r->verdict.message), "</system-out>\n");
      }
      absl::StrAppend(&out, "    </testcase>\n");
    }
    absl::StrAppend(&out, "  </testsuite>\n");
  }
  absl::StrAppend(&out, "</testsuites>\n");
  return out;
}

}  // namespace smtplab::conformance
