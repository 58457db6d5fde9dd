#include "cli/stored_message.hpp"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/absl_string_view.hpp"

namespace smtplab::cli {

std::optional<std::string> stored_message_of(const scenarios::ScenarioWorld& world, const sim::TraceEvent& delivery) {
  if (delivery.kind != sim::EventKind::kMailboxDeliver) return std::nullopt;
  const auto mda = world.mdas.find(delivery.host);
  const std::string* user = delivery.detail(sim::detail_key::kUser);
  if (mda == world.mdas.end() || mda->second == nullptr || user == nullptr) return std::nullopt;
  // The same message can reach one mailbox twice (a loop, a resend): the
  // moment it was filed tells them apart.
  for (const auto& m : mda->second->mailbox(*user)) {
    if (m.message_id == delivery.message && absl::ToInt64Microseconds(m.delivered_at) == delivery.time_us) {
      return m.content;
    }
  }
  return std::nullopt;
}

std::string format_stored_message(std::string_view title, std::string_view content, std::string_view indent,
                                  std::size_t max_body_lines, const Style& style) {
  std::string out = absl::StrCat(av(indent), style.bold(title), "\n");
  bool in_body = false;
  std::size_t body_lines = 0, hidden = 0;
  while (!content.empty()) {
    const std::size_t eol = content.find("\r\n");
    const std::string_view line = content.substr(0, eol);
    content.remove_prefix(eol == std::string_view::npos ? content.size() : eol + 2);
    if (in_body && body_lines >= max_body_lines) {
      ++hidden;
      continue;
    }
    if (in_body) ++body_lines;
    // A folded header line starts with white space; show a tab as spaces
    // so the indentation reads the same in every terminal.
    std::string shown(line);
    if (!shown.empty() && shown[0] == '\t') shown.replace(0, 1, "    ");
    absl::StrAppend(&out, av(indent), style.dim(shown.empty() ? "|" : "| "), shown, "\n");
    if (line.empty()) in_body = true;  // RFC 5322 2.1: an empty line ends the header section
  }
  if (hidden > 0) absl::StrAppend(&out, av(indent), style.dim(absl::StrCat("| (", hidden, " more lines)")), "\n");
  return out;
}

}  // namespace smtplab::cli
