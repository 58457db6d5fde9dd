// The ladder: the selected event's message (or, for a conversation that
// carried none, its connection) as a sequence diagram. A lane per host,
// time flowing down, an arrow per command (blue) and reply (amber), a
// pipelined batch bracketed as one write, the lines inside TLS on a shaded
// band, waits as dotted gaps with their length. It grows as the run plays;
// the selected event's row is highlighted and a click selects a row, so the
// details pane explains it. `L` switches between it and the topology.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "viz/app/views.hpp"

namespace smtplab::viz {
namespace {

constexpr float kRowHeight = 19.0f;
constexpr float kTimeWidth = 96.0f;
constexpr float kMinLaneGap = 64.0f, kMaxLaneGap = 150.0f;
constexpr float kLabelRoom = 360.0f;  // what the lanes leave for the labels, at least
constexpr float kHeadSize = 6.0f;

constexpr Rgb kCommandColour{140, 200, 255};
constexpr Rgb kReplyColour{255, 215, 130};
constexpr Rgb kQuietColour{150, 150, 160};  // TCP, notes
constexpr Rgb kLaneColour{80, 84, 95};
constexpr Rgb kSelectedRow{58, 66, 88};

Rgb colour_of(const LadderRow& row) {
  switch (row.kind) {
    case LadderRowKind::kCommand:
    case LadderRowKind::kData:
      return kCommandColour;
    case LadderRowKind::kReply:
      // A refusal in the colour of what it does to the message.
      if (!row.label.empty() && row.label[0] == '4') return kEnvelopeDeferred;
      if (!row.label.empty() && row.label[0] == '5') return kEnvelopeBounced;
      return kReplyColour;
    case LadderRowKind::kTls:
      return kTlsBadge;
    case LadderRowKind::kConnectFailed:
      return kEnvelopeBounced;
    default:
      return kQuietColour;
  }
}

void dashed(ImDrawList* d, ImVec2 a, ImVec2 b, std::uint32_t colour, float dash) {
  const float length = std::abs(b.x - a.x) + std::abs(b.y - a.y);
  const int pieces = std::max(1, static_cast<int>(length / dash));
  for (int i = 0; i < pieces; i += 2) {
    const float t0 = static_cast<float>(i) / pieces, t1 = std::min(1.0f, static_cast<float>(i + 1) / pieces);
    d->AddLine(ImVec2(a.x + (b.x - a.x) * t0, a.y + (b.y - a.y) * t0),
               ImVec2(a.x + (b.x - a.x) * t1, a.y + (b.y - a.y) * t1), colour, 1.5f);
  }
}

void head(ImDrawList* d, float x, float y, bool rightwards, std::uint32_t colour) {
  const float s = rightwards ? -kHeadSize : kHeadSize;
  d->AddTriangleFilled(ImVec2(x, y), ImVec2(x + s, y - kHeadSize * 0.6f), ImVec2(x + s, y + kHeadSize * 0.6f), colour);
}

// Which ladder the selection asks for: its message's, else its connection's;
// with nothing selected, the run's first message.
std::string scope_for(const Playback& p, const LadderIndex& index, std::optional<std::size_t> selected) {
  const auto& events = p.events();
  if (selected && *selected < events.size()) {
    if (const auto message = index.message_of_event(*selected)) return "m" + *message;
    if (events[*selected].connection != 0) return absl::StrCat("c", events[*selected].connection);
  }
  if (!index.messages().empty()) return "m" + index.messages().front();
  for (const auto& e : events) {
    if (e.connection != 0) return absl::StrCat("c", e.connection);
  }
  return "";
}

const Ladder& ladder_for(const Playback& p, ViewState& view) {
  LadderCache& cache = view.ladder;
  const auto selected = p.selected();
  if (!cache.index || cache.events != p.events().size()) {
    cache.index.emplace(p.events());  // the trace grew (live) or is new: find the carriers again
    cache.events = p.events().size();
    cache.for_selected = std::nullopt;
    cache.scope.clear();
    cache.ladder = Ladder{};
  }
  if (cache.for_selected != selected || cache.ladder.lanes.empty()) {
    const std::string scope = scope_for(p, *cache.index, selected);
    if (!scope.empty() || cache.scope.empty()) cache.scope = scope;
    cache.for_selected = selected;
    if (cache.scope.empty()) {
      cache.ladder = Ladder{};
    } else if (cache.scope[0] == 'm') {
      cache.ladder = cache.index->message_ladder(cache.scope.substr(1));
    } else {
      cache.ladder = cache.index->connection_ladder(std::stoull(cache.scope.substr(1)));
    }
  }
  return cache.ladder;
}

}  // namespace

void draw_ladder(Playback& p, ViewState& view, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("Ladder diagram (L: topology)", nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  view.placed.clear();
  const Ladder& ladder = ladder_for(p, view);
  if (ladder.lanes.empty()) {
    ImGui::TextDisabled("Nothing on the wire yet.");
    ImGui::End();
    return;
  }
  ImGui::TextUnformatted(ladder.title.c_str());

  // Geometry: time at the left, lanes, then the labels.
  const float width = ImGui::GetContentRegionAvail().x;
  const std::size_t n = ladder.lanes.size();
  const float gap = n < 2 ? 0
                          : std::clamp((width - kTimeWidth - kLabelRoom) / static_cast<float>(n - 1), kMinLaneGap,
                                       kMaxLaneGap);
  ImDrawList* d = ImGui::GetWindowDrawList();
  const ImVec2 top = ImGui::GetCursorScreenPos();
  auto lane_x = [&](int lane) { return top.x + kTimeWidth + 10 + gap * static_cast<float>(lane); };
  const float label_x = lane_x(static_cast<int>(n) - 1) + 30;

  // The lane heads: a dot in the role's colour, the host name, the role.
  // Names wider than the lanes' spacing alternate between two lines.
  bool stagger = false;
  for (const LadderLane& lane : ladder.lanes) stagger |= ImGui::CalcTextSize(lane.host.c_str()).x > gap - 8;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = lane_x(static_cast<int>(i));
    const float y = top.y + 8 + (stagger && i % 2 == 1 ? 30.0f : 0.0f);
    const Rgb colour = role_colour(role_of_agent(ladder.lanes[i].agent));
    d->AddCircleFilled(ImVec2(x, top.y + 8), 6, packed(colour));
    if (y > top.y + 8) d->AddLine(ImVec2(x, top.y + 14), ImVec2(x, y + 6), packed(kLaneColour), 1);
    const std::string& host = ladder.lanes[i].host;
    const ImVec2 text = ImGui::CalcTextSize(host.c_str());
    const std::string role(role_name(role_of_agent(ladder.lanes[i].agent)));
    const ImVec2 role_size = ImGui::CalcTextSize(role.c_str());
    d->AddText(ImVec2(std::max(top.x, x - text.x / 2), y + 8), packed({220, 220, 225}), host.c_str());
    d->AddText(ImVec2(x - role_size.x / 2, y + 22), packed(colour), role.c_str());
    view.placed.push_back(Placed{"lane", host, x, top.y + 8, colour});
  }
  ImGui::Dummy(ImVec2(width, stagger ? 78.0f : 48.0f));

  // The rows so far: those whose event has been played.
  std::vector<const LadderRow*> rows;
  for (const LadderRow& row : ladder.rows) {
    if (row.event < p.cursor()) rows.push_back(&row);
  }
  const auto selected = p.selected();
  ImGui::BeginChild("ladder rows");
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float visible_h = ImGui::GetWindowHeight();
  const float scroll = ImGui::GetScrollY();
  // A wait still going on at the cursor is drawn as an open gap.
  const std::int64_t now = p.virtual_now();
  const bool waiting = !rows.empty() && now - rows.back()->time_us >= kLadderGapUs;
  const std::size_t shown_rows = rows.size() + (waiting ? 1 : 0);
  ImGui::Dummy(ImVec2(width, kRowHeight * static_cast<float>(shown_rows) + 4));

  const std::size_t first = static_cast<std::size_t>(std::max(0.0f, scroll / kRowHeight - 1));
  const std::size_t last = std::min(shown_rows, static_cast<std::size_t>((scroll + visible_h) / kRowHeight) + 2);
  std::optional<std::int64_t> time_shown;
  if (first > 0 && first - 1 < rows.size()) time_shown = rows[first - 1]->time_us;
  // The selected event's row, highlighted; the rows scroll to it, or to the
  // last row before it for an event the ladder does not draw (a DNS answer).
  std::optional<std::size_t> selected_row, anchor_row;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (!selected || rows[r]->kind == LadderRowKind::kGap || rows[r]->event > *selected) continue;
    anchor_row = r;
    if (*selected <= rows[r]->last_event) selected_row = r;
  }
  for (std::size_t r = first; r < last; ++r) {
    const float y0 = origin.y + kRowHeight * static_cast<float>(r);
    // On a pixel boundary, so a 2-pixel arrow fills whole pixel rows.
    const float y = std::floor(y0 + kRowHeight * 0.5f);
    const bool open_gap = r == rows.size();
    const LadderRow* row = open_gap ? nullptr : rows[r];
    const bool gap_row = open_gap || row->kind == LadderRowKind::kGap;
    if (selected_row && *selected_row == r) {
      d->AddRectFilled(ImVec2(origin.x, y0), ImVec2(origin.x + width, y0 + kRowHeight), packed(kSelectedRow));
    }
    if (!gap_row && (row->encrypted || row->kind == LadderRowKind::kTls) && row->from != row->to) {
      d->AddRectFilled(ImVec2(lane_x(std::min(row->from, row->to)), y0),
                       ImVec2(lane_x(std::max(row->from, row->to)), y0 + kRowHeight), packed(kTlsBadge, 45));
    }
    for (std::size_t i = 0; i < n; ++i) {
      const float x = lane_x(static_cast<int>(i));
      if (gap_row) {
        dashed(d, ImVec2(x, y0), ImVec2(x, y0 + kRowHeight), packed(kLaneColour), 3);
      } else {
        d->AddLine(ImVec2(x, y0), ImVec2(x, y0 + kRowHeight), packed(kLaneColour), 1.5f);
      }
    }
    if (gap_row) {
      const std::string text =
          open_gap ? absl::StrCat("... ", sim::duration_text(absl::Microseconds(now - rows.back()->time_us)),
                                  " so far ...")
                   : absl::StrCat("... ", row->label, " pass ...");
      d->AddText(ImVec2(label_x, y0 + 2), packed(kQuietColour), text.c_str());
      continue;
    }
    if (!time_shown || *time_shown != row->time_us) {
      d->AddText(ImVec2(origin.x, y0 + 2), packed({170, 170, 180}), clock_text(row->time_us).c_str());
      time_shown = row->time_us;
    }
    const Rgb colour = colour_of(*row);
    const std::uint32_t c = packed(colour);
    const float xa = lane_x(row->from), xb = lane_x(row->to);
    const bool rightwards = xb > xa;
    switch (row->kind) {
      case LadderRowKind::kNote:
        d->AddCircleFilled(ImVec2(xa, y), 4, c);
        break;
      case LadderRowKind::kConnect:
        dashed(d, ImVec2(xa, y), ImVec2(xb, y), c, 5);
        head(d, xb, y, rightwards, c);
        break;
      case LadderRowKind::kClose:
        dashed(d, ImVec2(xa, y), ImVec2(xb, y), c, 5);
        break;
      case LadderRowKind::kConnectFailed: {
        const float xe = xa + (xb - xa) * 0.75f;
        dashed(d, ImVec2(xa, y), ImVec2(xe, y), c, 5);
        d->AddLine(ImVec2(xe - 4, y - 4), ImVec2(xe + 4, y + 4), c, 2);
        d->AddLine(ImVec2(xe - 4, y + 4), ImVec2(xe + 4, y - 4), c, 2);
        break;
      }
      case LadderRowKind::kTls:
        d->AddLine(ImVec2(xa, y), ImVec2(xb, y), c, 2.5f);
        head(d, xb, y, rightwards, c);
        head(d, xa, y, !rightwards, c);
        break;
      default:
        d->AddLine(ImVec2(xa, y), ImVec2(xb, y), c, 2.0f);
        head(d, xb, y, rightwards, c);
    }
    view.placed.push_back(Placed{"row", row->label, (xa + xb) / 2, y, colour});
    // A pipelined batch: a bracket joining the commands of the one write.
    if (row->batch != 0) {
      const bool batch_first = r == 0 || rows[r - 1]->batch != row->batch;
      const bool batch_last = r + 1 == rows.size() || rows[r + 1]->batch != row->batch;
      const float bx = label_x - 12;
      d->AddLine(ImVec2(bx, batch_first ? y : y0), ImVec2(bx, batch_last ? y : y0 + kRowHeight), c, 1.5f);
      d->AddLine(ImVec2(bx, y), ImVec2(bx + 6, y), c, 1.5f);
    }
    std::string label = row->label;
    if (!row->more.empty()) absl::StrAppend(&label, "   (+", row->more.size(), " lines)");
    if (row->batch != 0 && (r + 1 == rows.size() || rows[r + 1]->batch != row->batch)) {
      absl::StrAppend(&label, "   <- one write (pipelined)");
    }
    d->AddText(ImVec2(label_x, y0 + 2), row->kind == LadderRowKind::kNote ? packed({190, 190, 200}) : c,
               label.c_str());
    // The row is a button: a click explains it, hovering shows a long reply.
    ImGui::SetCursorScreenPos(ImVec2(origin.x, y0));
    ImGui::InvisibleButton(absl::StrCat("row", r).c_str(), ImVec2(width, kRowHeight));
    if (ImGui::IsItemClicked()) p.select(row->event);
    if (ImGui::IsItemHovered() && !row->more.empty()) {
      ImGui::SetTooltip("%s\n%s", row->label.c_str(), absl::StrJoin(row->more, "\n").c_str());
    }
  }
  // Keep the selected row in view when the selection moves.
  if (view.scroll_transcript && anchor_row && view.ladder.scrolled_to != selected) {
    const float y = kRowHeight * static_cast<float>(*anchor_row);
    if (y < scroll || y > scroll + visible_h - kRowHeight * 2) ImGui::SetScrollY(std::max(0.0f, y - visible_h * 0.6f));
    view.ladder.scrolled_to = selected;
  }
  ImGui::EndChild();
  ImGui::End();
}

}  // namespace smtplab::viz
