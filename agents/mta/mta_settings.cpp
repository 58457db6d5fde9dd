#include "agents/mta/mta_settings.hpp"

#include <algorithm>

#include "absl/strings/match.h"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {
namespace {

// Domain names compare without regard to case (RFC 5321 2.4).
bool listed(const std::vector<std::string>& domains, std::string_view domain) {
  return std::any_of(domains.begin(), domains.end(),
                     [domain](const std::string& d) { return absl::EqualsIgnoreCase(d, av(domain)); });
}

}  // namespace

bool MtaSettings::is_local_domain(std::string_view domain) const { return listed(local_domains, domain); }
bool MtaSettings::is_relay_domain(std::string_view domain) const { return listed(relay_domains, domain); }

}  // namespace smtplab::agents
