// Where each host is drawn: left to right along the delivery path (mail
// clients, submission servers, MTAs hop by hop, mailbox servers), DNS as a
// node of its own above them. Positions are in [0,1] x [0,1]; the view
// scales them, and a dragged node keeps the place it was dropped at.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "viz/model/journeys.hpp"
#include "viz/model/world_state.hpp"

namespace smtplab::viz {

struct NodePlace {
  std::string host;  // "DNS" for the resolver
  Role role = Role::kOther;
  int column = 0;
  float x = 0, y = 0;
};

class Topology {
 public:
  Topology() = default;
  // `final_state` is the world after the whole trace (every host there is).
  Topology(const WorldState& final_state, const Journeys& journeys, bool with_dns);

  const std::vector<NodePlace>& nodes() const { return nodes_; }
  const NodePlace* find(const std::string& host) const;
  void move(const std::string& host, float x, float y);
  // A new layout for a grown run keeps the places the user dragged hosts to.
  void keep_moves_from(const Topology& before);
  int columns() const { return columns_; }

  static constexpr const char* kDns = "DNS";

 private:
  std::vector<NodePlace> nodes_;
  std::map<std::string, std::pair<float, float>> moved_;
  int columns_ = 1;
};

}  // namespace smtplab::viz
