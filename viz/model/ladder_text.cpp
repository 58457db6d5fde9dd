#include "viz/model/ladder_text.hpp"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sim/time_text.hpp"

namespace smtplab::viz {
namespace {

constexpr std::size_t kLaneWidth = 5;       // columns from one lane to the next
constexpr std::size_t kTimeWidth = 14;      // "00:05:00.266  "
constexpr std::size_t kContinuationWidth = 64;  // a long reply's further lines wrap here

char lane_letter(std::size_t i) { return i < 26 ? static_cast<char>('A' + i) : '#'; }

// The lanes with an arrow (or a mark) drawn across them.
std::string lanes_for(const Ladder& ladder, const LadderRow* row) {
  const std::size_t n = ladder.lanes.size();
  const char bar = row != nullptr && row->kind == LadderRowKind::kGap ? ':' : '|';
  std::string line(n == 0 ? 1 : (n - 1) * kLaneWidth + 1, ' ');
  for (std::size_t i = 0; i < n; ++i) line[i * kLaneWidth] = bar;
  if (row == nullptr || row->kind == LadderRowKind::kGap) return line;
  const std::size_t from = static_cast<std::size_t>(row->from) * kLaneWidth;
  const std::size_t to = static_cast<std::size_t>(row->to) * kLaneWidth;
  if (row->kind == LadderRowKind::kNote || from == to) {
    line[from] = '*';
    return line;
  }
  const char fill = row->kind == LadderRowKind::kConnect || row->kind == LadderRowKind::kConnectFailed ||
                            row->kind == LadderRowKind::kClose
                        ? '.'
                    : row->encrypted || row->kind == LadderRowKind::kTls ? '~'
                                                                          : '-';
  const std::size_t lo = std::min(from, to), hi = std::max(from, to);
  for (std::size_t x = lo + 1; x < hi; ++x) line[x] = fill;
  const bool rightwards = to > from;
  switch (row->kind) {
    case LadderRowKind::kConnectFailed:
      line[rightwards ? hi - 1 : lo + 1] = 'x';
      if (rightwards) line[hi] = '|';
      break;
    case LadderRowKind::kClose:
      break;  // no head: either end may have closed
    case LadderRowKind::kTls:
      line[lo + 1] = '<';
      line[hi - 1] = '>';
      break;
    default:
      line[rightwards ? hi - 1 : lo + 1] = rightwards ? '>' : '<';
  }
  return line;
}

// "250-PIPELINING" -> "PIPELINING": the further lines of a reply, code gone.
std::string without_code(std::string_view line) {
  if (line.size() >= 4 && (line[3] == '-' || line[3] == ' ')) line.remove_prefix(4);
  return std::string(line);
}

std::vector<std::string> wrapped(const std::vector<std::string>& words, std::size_t width) {
  std::vector<std::string> lines;
  std::string current;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string word = words[i] + (i + 1 < words.size() ? "," : "");
    if (!current.empty() && current.size() + 1 + word.size() > width) {
      lines.push_back(current);
      current.clear();
    }
    absl::StrAppend(&current, current.empty() ? "" : " ", word);
  }
  if (!current.empty()) lines.push_back(current);
  return lines;
}

}  // namespace

std::string role_text(const LadderLane& lane) {
  if (lane.agent == "mua") return "mail user agent (MUA): the sender's mail program";
  if (lane.agent == "msa") return "mail submission agent (MSA): takes mail from its users";
  if (lane.agent == "mta") return "mail transfer agent (MTA): stores and forwards mail, hop by hop";
  if (lane.agent == "mda") return "mail delivery agent (MDA): files mail into mailboxes";
  return "a client from outside the simulated world";
}

std::string ladder_text(const Ladder& ladder) {
  std::string out = absl::StrCat(ladder.title, "\n\n");
  std::size_t widest = 0;
  for (const LadderLane& lane : ladder.lanes) widest = std::max(widest, lane.host.size());
  for (std::size_t i = 0; i < ladder.lanes.size(); ++i) {
    const LadderLane& lane = ladder.lanes[i];
    absl::StrAppend(&out, "  ", std::string(1, lane_letter(i)), "  ", lane.host,
                    std::string(widest - lane.host.size() + 2, ' '), role_text(lane), "\n");
  }
  std::string header(ladder.lanes.empty() ? 1 : (ladder.lanes.size() - 1) * kLaneWidth + 1, ' ');
  for (std::size_t i = 0; i < ladder.lanes.size(); ++i) header[i * kLaneWidth] = lane_letter(i);
  absl::StrAppend(&out, "\n", "time", std::string(kTimeWidth - 4, ' '), header, "\n");
  const std::string blank_time(kTimeWidth, ' ');
  const std::string plain_lanes = lanes_for(ladder, nullptr);
  std::optional<std::int64_t> shown_time;
  for (std::size_t r = 0; r < ladder.rows.size(); ++r) {
    const LadderRow& row = ladder.rows[r];
    if (row.kind == LadderRowKind::kGap) {
      absl::StrAppend(&out, blank_time, lanes_for(ladder, &row), "      ... ", row.label, " pass ...\n");
      continue;
    }
    std::string time = blank_time;
    if (!shown_time || *shown_time != row.time_us) {
      time = sim::clock_text(row.time_us);
      time.resize(kTimeWidth, ' ');
      shown_time = row.time_us;
    }
    // A pipelined batch is bracketed: the commands one write carried.
    std::string mark = "   ";
    std::string after;
    if (row.batch != 0) {
      const bool first = r == 0 || ladder.rows[r - 1].batch != row.batch;
      const bool last = r + 1 == ladder.rows.size() || ladder.rows[r + 1].batch != row.batch;
      mark = first ? ",- " : last ? "'- " : "|  ";
      if (last) after = "   (one write: pipelined)";
    }
    absl::StrAppend(&out, time, lanes_for(ladder, &row), "   ", mark, row.label, after, "\n");
    if (!row.more.empty()) {
      std::vector<std::string> words;
      for (const std::string& line : row.more) words.push_back(without_code(line));
      const auto lines = wrapped(words, kContinuationWidth);
      for (std::size_t k = 0; k < lines.size(); ++k) {
        absl::StrAppend(&out, blank_time, plain_lanes, "   ", "   ", k == 0 ? "+ " : "  ", lines[k], "\n");
      }
    }
  }
  absl::StrAppend(&out, "\n",
                  "--> a line on the wire   ~~> inside TLS   <~~> the TLS handshake   ...> TCP connect\n"
                  "|....| connection closed   ..x not reached   * the host acting on its own\n"
                  ",- '- one write (pipelined)   : time passing\n");
  return out;
}

}  // namespace smtplab::viz
