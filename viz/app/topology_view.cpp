// The topology: hosts left to right along the delivery path, links between
// the hosts that talked, and envelopes moving along them, waiting in
// queues with a countdown, or resting in a mailbox.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "viz/app/envelope_sprite.hpp"
#include "viz/app/views.hpp"

namespace smtplab::viz {
namespace {

constexpr float kNodeRadius = 26.0f;
// Envelopes piled above one host; more are counted, not drawn.
constexpr int kPileLimit = 24;

ImVec2 lerp(ImVec2 a, ImVec2 b, float t) { return ImVec2(a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t); }

// An envelope: the sprite tinted with the state's colour, snapped to whole
// pixels so the nearest-texel texture stays crisp.
void draw_envelope(ImDrawList* d, ImVec2 c, Rgb colour, bool tls, bool unverified) {
  const ImVec2 a(std::floor(c.x) - kEnvelopeWidth / 2, std::floor(c.y) - kEnvelopeHeight / 2);
  const ImVec2 b(a.x + kEnvelopeWidth, a.y + kEnvelopeHeight);
  d->AddImage(envelope_texture(), a, b, ImVec2(0, 0), ImVec2(1, 1), packed(colour));
  if (tls) d->AddCircleFilled(ImVec2(b.x, a.y), 4.5f, packed(unverified ? kTlsUnverifiedBadge : kTlsBadge));
}

}  // namespace

void draw_topology(Playback& p, ViewState& view, ImVec2 pos, ImVec2 size) {
  ImGui::SetNextWindowPos(pos);
  ImGui::SetNextWindowSize(size);
  ImGui::Begin("Topology", nullptr, ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  ImDrawList* d = ImGui::GetWindowDrawList();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 area = ImGui::GetContentRegionAvail();
  auto at = [&](const NodePlace& n) { return ImVec2(origin.x + n.x * area.x, origin.y + n.y * area.y); };
  view.placed.clear();
  const WorldState& state = p.state();

  // Links: every pair of hosts that has talked so far.
  for (const auto& [key, link] : state.links()) {
    const NodePlace* a = p.topology().find(key.first);
    const NodePlace* b = p.topology().find(key.second);
    if (a == nullptr || b == nullptr) continue;
    Rgb colour{90, 95, 105};
    float width = 1.5f;
    if (link.open_connections > 0) {
      colour = {200, 200, 210};
      width = 3.0f;
    }
    if (link.security == LinkState::Security::kTls) colour = link.open_connections > 0 ? kTlsBadge : Rgb{30, 120, 140};
    if (link.security == LinkState::Security::kTlsUnverified) {
      colour = link.open_connections > 0 ? kTlsUnverifiedBadge : Rgb{140, 70, 115};
    }
    if (link.security == LinkState::Security::kTlsFailed || link.partitioned) colour = kEnvelopeBounced;
    d->AddLine(at(*a), at(*b), packed(colour), width);
    const ImVec2 mid = lerp(at(*a), at(*b), 0.5f);
    if (link.partitioned) {
      d->AddLine(ImVec2(mid.x - 8, mid.y - 8), ImVec2(mid.x + 8, mid.y + 8), packed(kEnvelopeBounced), 3);
      d->AddLine(ImVec2(mid.x - 8, mid.y + 8), ImVec2(mid.x + 8, mid.y - 8), packed(kEnvelopeBounced), 3);
    }
    if (link.attacked) d->AddText(ImVec2(mid.x - 26, mid.y - 20), packed(kEnvelopeBounced), "attacker");
  }

  // The last event's DNS lookup, as a dotted line to the resolver.
  if (auto sel = p.selected(); sel && p.events()[*sel].agent == "dns") {
    const NodePlace* from = p.topology().find(p.events()[*sel].host);
    const NodePlace* dns = p.topology().find(Topology::kDns);
    if (from != nullptr && dns != nullptr) {
      const ImVec2 a = at(*from), b = at(*dns);
      for (int i = 0; i < 20; i += 2) d->AddLine(lerp(a, b, i / 20.0f), lerp(a, b, (i + 1) / 20.0f), packed(kDnsColour), 2);
    }
  }

  // Hosts.
  for (const auto& n : p.topology().nodes()) {
    const ImVec2 c = at(n);
    const auto hs = state.hosts().find(n.host);
    const bool down = hs != state.hosts().end() && !hs->second.up;
    const Rgb fill = n.host == Topology::kDns ? kDnsColour : down ? kDownColour : role_colour(n.role);
    d->AddCircleFilled(c, kNodeRadius, packed(fill));
    d->AddCircle(c, kNodeRadius, packed({230, 230, 230}), 0, 1.5f);
    // A peer named by its address is a client from outside the world (swaks
    // sending into smtplab serve).
    const bool outside = n.role == Role::kOther && n.host.find_first_of("0123456789") != std::string::npos &&
                         n.host.find_first_of(".:") != std::string::npos &&
                         n.host.find_first_not_of("0123456789.:abcdef[]") == std::string::npos;
    const std::string role = n.host == Topology::kDns ? "DNS" : outside ? "client" : std::string(role_name(n.role));
    const ImVec2 rs = ImGui::CalcTextSize(role.c_str());
    d->AddText(ImVec2(c.x - rs.x / 2, c.y - rs.y / 2), packed({255, 255, 255}), role.c_str());
    const ImVec2 ns = ImGui::CalcTextSize(n.host.c_str());
    d->AddText(ImVec2(c.x - ns.x / 2, c.y + kNodeRadius + 3), packed({220, 220, 220}), n.host.c_str());
    if (hs != state.hosts().end() && !hs->second.mailbox.empty()) {
      const std::string box = absl::StrCat(hs->second.mailbox.size(), " in mailbox");
      d->AddText(ImVec2(c.x - ImGui::CalcTextSize(box.c_str()).x / 2, c.y + kNodeRadius + 18),
                 packed(kEnvelopeDelivered), box.c_str());
    }
    if (down) d->AddText(ImVec2(c.x - 16, c.y - kNodeRadius - 16), packed(kEnvelopeBounced), "DOWN");
    view.placed.push_back({"node", n.host, c.x, c.y, fill});
    // Dragging a node moves it.
    ImGui::SetCursorScreenPos(ImVec2(c.x - kNodeRadius, c.y - kNodeRadius));
    ImGui::InvisibleButton(("##node" + n.host).c_str(), ImVec2(2 * kNodeRadius, 2 * kNodeRadius));
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
      const ImVec2 m = ImGui::GetIO().MousePos;
      p.topology().move(n.host, (m.x - origin.x) / area.x, (m.y - origin.y) / area.y);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", n.host.c_str());
  }

  // Envelopes: travelling ones on their link, the others (queued, deferred,
  // delivered, bounced) piled above the host that holds them.
  const std::int64_t now = p.virtual_now();
  std::map<std::string, int> stacked;
  struct RetryLabel {
    int deferred = 0;
    std::int64_t soonest_us = 0;
    float top_y = 0, centre_x = 0;
  };
  std::map<std::string, RetryLabel> retries;
  // Envelopes are small axis-aligned shapes: anti-aliasing them costs a
  // software renderer most of its time with a thousand on screen and
  // changes nothing one can see.
  const ImDrawListFlags saved_flags = d->Flags;
  d->Flags &= ~(ImDrawListFlags_AntiAliasedFill | ImDrawListFlags_AntiAliasedLines);
  for (const Envelope& e : p.envelopes()) {
    const Segment& s = *e.segment;
    const NodePlace* from = p.topology().find(s.from);
    if (from == nullptr) continue;
    ImVec2 c = at(*from);
    if (s.kind == Segment::Kind::kFlight) {
      const NodePlace* to = p.topology().find(s.to);
      if (to == nullptr) continue;
      c = lerp(at(*from), at(*to), static_cast<float>(std::clamp(e.progress, 0.0, 1.0)));
      // Messages on the same link at the same moment spread across a band
      // around it instead of hiding behind one another.
      const float spread = static_cast<float>(std::hash<std::string>{}(s.message_id) % 25) - 12.0f;
      c.y += -12 + spread;
    } else {
      // Waiting or resting envelopes sit in a little pile above their host,
      // clear of the host's name below it.
      const int k = stacked[s.from]++;
      if (k >= kPileLimit) continue;  // counted below the pile instead
      c = ImVec2(c.x - 26 + (k % 3) * 26.0f, c.y - kNodeRadius - 16 - (k / 3) * 18.0f);
    }
    const Rgb colour = envelope_colour(s.state, s.is_bounce);
    draw_envelope(d, c, colour, s.tls, s.tls_unverified);
    view.placed.push_back({"envelope", s.message_id, c.x, c.y, colour});
    if (s.state == EnvelopeState::kDeferred && s.next_attempt_us > now) {
      // One countdown per pile (the soonest), written once after the loop:
      // side by side, several would print over one another.
      RetryLabel& r = retries[s.from];
      r.soonest_us = r.deferred == 0 ? s.next_attempt_us : std::min(r.soonest_us, s.next_attempt_us);
      r.top_y = r.deferred == 0 ? c.y : std::min(r.top_y, c.y);
      r.centre_x = at(*from).x;
      ++r.deferred;
    }
    ImGui::SetCursorScreenPos(ImVec2(c.x - 11, c.y - 7));
    ImGui::InvisibleButton(("##env" + s.message_id + std::to_string(s.first_event)).c_str(), ImVec2(22, 14));
    if (ImGui::IsItemClicked()) view.selected_message = s.message_id;
    if (ImGui::IsItemHovered()) {
      ImGui::SetTooltip("%s\n%s", s.message_id.c_str(), std::string(envelope_state_name(s.state)).c_str());
    }
  }

  d->Flags = saved_flags;
  for (const auto& [host, r] : retries) {
    const std::string left = (r.deferred > 1 ? "next retry in " : "retry in ") + countdown_text(r.soonest_us - now);
    const ImVec2 ts = ImGui::CalcTextSize(left.c_str());
    d->AddText(ImVec2(r.centre_x - ts.x / 2, r.top_y - 26), packed(kEnvelopeDeferred), left.c_str());
  }
  for (const auto& [host, n] : stacked) {
    if (n <= kPileLimit) continue;
    const NodePlace* node = p.topology().find(host);
    if (node == nullptr) continue;
    const std::string more = absl::StrCat(n, " messages here");
    const ImVec2 c = at(*node);
    d->AddText(ImVec2(c.x - ImGui::CalcTextSize(more.c_str()).x / 2, c.y + kNodeRadius + 34), packed(kEnvelopeQueued),
               more.c_str());
  }

  // Legend.
  const ImVec2 l(origin.x + 6, origin.y + area.y - 22);
  const std::pair<const char*, Rgb> legend[] = {{"travelling", kEnvelopeTravelling}, {"queued", kEnvelopeQueued},
                                                {"deferred", kEnvelopeDeferred},     {"delivered", kEnvelopeDelivered},
                                                {"bounced, or a bounce (DSN)", kEnvelopeBounced}, {"TLS", kTlsBadge},
                                                {"TLS, certificate not verified", kTlsUnverifiedBadge}};
  float x = l.x;
  for (const auto& [name, colour] : legend) {
    d->AddRectFilled(ImVec2(x, l.y + 3), ImVec2(x + 12, l.y + 13), packed(colour));
    d->AddText(ImVec2(x + 16, l.y), packed({200, 200, 200}), name);
    x += 24 + ImGui::CalcTextSize(name).x;
  }
  ImGui::End();
}

}  // namespace smtplab::viz
