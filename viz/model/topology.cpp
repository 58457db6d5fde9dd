#include "viz/model/topology.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>

namespace smtplab::viz {
namespace {

Role main_role(const std::set<Role>& roles) {
  for (Role r : {Role::kMua, Role::kMsa, Role::kMda, Role::kMta}) {
    if (roles.count(r)) return r;
  }
  return Role::kOther;
}

}  // namespace

Topology::Topology(const WorldState& state, const Journeys& journeys, bool with_dns) {
  // Hop distance from the mail clients along the paths mail really took
  // (breadth first, so a bounce going back does not push a host right).
  std::map<std::string, std::vector<std::string>> next;
  for (const auto& s : journeys.segments()) {
    if (s.kind != Segment::Kind::kFlight) continue;
    auto& n = next[s.from];
    if (std::find(n.begin(), n.end(), s.to) == n.end()) n.push_back(s.to);
  }
  std::map<std::string, int> depth;
  std::deque<std::string> todo;
  for (const auto& [host, h] : state.hosts()) {
    if (main_role(h.roles) == Role::kMua) {
      depth[host] = 0;
      todo.push_back(host);
    }
  }
  while (!todo.empty()) {
    const std::string h = todo.front();
    todo.pop_front();
    for (const auto& n : next[h]) {
      if (depth.count(n)) continue;
      depth[n] = depth[h] + 1;
      todo.push_back(n);
    }
  }
  // A client from outside the world (swaks on 127.0.0.1 under smtplab serve)
  // has no role and is no step of the delivery path: it is drawn beside the
  // host it connects to instead of in a column of its own.
  std::map<std::string, std::string> outside_client_of;  // client -> its first server
  for (const auto& [id, c] : state.connections()) {
    const auto it = state.hosts().find(c.client);
    if (it != state.hosts().end() && main_role(it->second.roles) == Role::kOther && !depth.count(c.client)) {
      outside_client_of.emplace(c.client, c.server);
    }
  }
  int last = 0;
  for (const auto& [host, d] : depth) last = std::max(last, d);
  // Mailbox servers end the path; hosts mail never reached go by role.
  for (const auto& [host, h] : state.hosts()) {
    if (outside_client_of.count(host)) continue;  // placed beside its server below
    NodePlace p;
    p.host = host;
    p.role = main_role(h.roles);
    if (p.role == Role::kMda) {
      p.column = std::max(last, 2);
    } else if (auto it = depth.find(host); it != depth.end()) {
      p.column = it->second;
    } else {
      p.column = p.role == Role::kMua ? 0 : p.role == Role::kMsa ? 1 : 2;
    }
    nodes_.push_back(p);
  }
  columns_ = 1;
  for (const auto& n : nodes_) columns_ = std::max(columns_, n.column + 1);
  // Rows: within a column, by domain then name (so a domain's hosts sit
  // together and mx1 comes before mx2).
  auto domain_of = [](const std::string& h) {
    const auto dot = h.find('.');
    return dot == std::string::npos ? h : h.substr(dot + 1);
  };
  std::stable_sort(nodes_.begin(), nodes_.end(), [&](const NodePlace& a, const NodePlace& b) {
    return std::make_tuple(a.column, domain_of(a.host), a.host) < std::make_tuple(b.column, domain_of(b.host), b.host);
  });
  const float top = with_dns ? 0.22f : 0.08f;
  for (int c = 0; c < columns_; ++c) {
    std::vector<NodePlace*> in_column;
    for (auto& n : nodes_) {
      if (n.column == c) in_column.push_back(&n);
    }
    for (std::size_t i = 0; i < in_column.size(); ++i) {
      in_column[i]->x = columns_ == 1 ? 0.5f : 0.07f + 0.86f * static_cast<float>(c) / static_cast<float>(columns_ - 1);
      in_column[i]->y = top + (0.92f - top) * (static_cast<float>(i) + 0.5f) / static_cast<float>(in_column.size());
    }
  }
  // Outside clients: above and to the left of the server they talk to, one
  // step further left for each more client of that server.
  std::map<std::string, int> beside;
  for (const auto& [client, server] : outside_client_of) {
    const NodePlace* s = find(server);
    NodePlace p;
    p.host = client;
    p.role = Role::kOther;
    p.column = s == nullptr ? 0 : s->column;
    const int k = beside[server]++;
    p.x = std::clamp((s == nullptr ? 0.5f : s->x) - 0.08f - 0.1f * static_cast<float>(k), 0.03f, 0.97f);
    p.y = std::clamp((s == nullptr ? 0.5f : s->y) - 0.24f, top, 0.95f);
    nodes_.push_back(p);
  }
  if (with_dns) {
    NodePlace dns;
    dns.host = kDns;
    dns.x = 0.5f;
    dns.y = 0.07f;
    nodes_.push_back(dns);
  }
}

const NodePlace* Topology::find(const std::string& host) const {
  for (const auto& n : nodes_) {
    if (n.host == host) return &n;
  }
  return nullptr;
}

void Topology::move(const std::string& host, float x, float y) {
  for (auto& n : nodes_) {
    if (n.host == host) {
      n.x = std::clamp(x, 0.0f, 1.0f);
      n.y = std::clamp(y, 0.0f, 1.0f);
      moved_[host] = {n.x, n.y};
    }
  }
}

void Topology::keep_moves_from(const Topology& before) {
  for (const auto& [host, xy] : before.moved_) move(host, xy.first, xy.second);
}

}  // namespace smtplab::viz
