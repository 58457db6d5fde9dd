#include "agents/auth/dns_zone.hpp"

namespace smtplab::auth {

DnsZone::Node& DnsZone::node(std::string_view name) { return names_[normalized_dns_name(name)]; }

void DnsZone::add(std::string_view name, DnsType type, std::string value) {
  node(name).records.emplace_back(type, std::move(value));
}

void DnsZone::add_cname(std::string_view name, std::string_view target) {
  node(name).cname = normalized_dns_name(target);
}

void DnsZone::fail(std::string_view name, DnsOutcome outcome) { node(name).failure = outcome; }

DnsResult DnsZone::resolve(const DnsQuestion& question) const {
  std::string name = normalized_dns_name(question.name);
  // Resolvers give up on chains longer than a few links; eight is plenty.
  for (int links = 0; links < 8; ++links) {
    auto it = names_.find(name);
    if (it == names_.end()) return {DnsOutcome::kNxDomain, {}};
    const Node& node = it->second;
    if (node.failure != DnsOutcome::kAnswer) return {node.failure, {}};
    if (!node.cname.empty()) {
      name = node.cname;
      continue;
    }
    std::vector<std::string> records;
    for (const auto& [type, value] : node.records) {
      if (type == question.type) records.push_back(value);
    }
    return DnsResult::answer(std::move(records));
  }
  return {DnsOutcome::kServFail, {}};
}

}  // namespace smtplab::auth
