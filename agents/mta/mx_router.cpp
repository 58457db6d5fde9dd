#include "agents/mta/mx_router.hpp"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace smtplab::agents {
namespace {

Route permanent(int code, std::string_view enhanced, std::string text) {
  Route r;
  r.kind = Route::Kind::kPermanentFailure;
  r.failure = smtp::make_reply(code, enhanced, text);
  return r;
}

Route temporary(std::string text) {
  Route r;
  r.kind = Route::Kind::kTemporaryFailure;
  // RFC 3463 4.4.3: directory server failure.
  r.failure = smtp::make_reply(451, "4.4.3", text);
  return r;
}

// Looks the MX hosts up one after another, so the trace reads in order.
struct HostLookup {
  std::vector<sim::MxRecord> mx;
  std::size_t next = 0;
  Route route;
  bool any_temporary = false;
  std::function<void(Route)> done;
};

// `asker` is the router's own name, which outlives every query it starts.
void lookup_next_host(sim::SimDns& dns, const std::string& asker, sim::DnsPurpose purpose,
                      std::shared_ptr<HostLookup> state) {
  if (state->next == state->mx.size()) {
    if (!state->route.hops.empty()) {
      state->done(std::move(state->route));
    } else if (state->any_temporary) {
      state->done(temporary("No address for any MX host (name service error)"));
    } else {
      // RFC 3463 5.4.4: unable to route.
      state->done(permanent(550, "5.4.4", "No MX host has an address: unable to route"));
    }
    return;
  }
  const std::size_t index = state->next++;
  dns.query(asker, state->mx[index].exchange, sim::DnsType::kA, purpose,
            [&dns, &asker, purpose, state, index](const sim::DnsAnswer& a) {
    const sim::MxRecord& record = state->mx[index];
    if (a.status == sim::DnsStatus::kOk) {
      for (const auto& address : a.records) state->route.hops.push_back({record.exchange, address, record.preference});
    } else if (a.status == sim::DnsStatus::kServFail || a.status == sim::DnsStatus::kTimeout) {
      state->any_temporary = true;
    }
    lookup_next_host(dns, asker, purpose, state);
  });
}

}  // namespace

void MxRouter::route(const std::string& domain, std::function<void(Route)> done) {
  dns_.query(asker_, domain, sim::DnsType::kMx, sim::DnsPurpose::kMailDomain,
             [this, domain, done = std::move(done)](const sim::DnsAnswer& a) {
    switch (a.status) {
      case sim::DnsStatus::kNxDomain:
        done(permanent(550, "5.1.2", absl::StrCat("Host or domain name not found: ", domain, " (NXDOMAIN)")));
        return;
      case sim::DnsStatus::kServFail:
      case sim::DnsStatus::kTimeout:
        done(temporary(absl::StrCat("Name service error for ", domain, " type=MX: ",
                                    a.status == sim::DnsStatus::kTimeout ? "timed out" : "SERVFAIL")));
        return;
      case sim::DnsStatus::kNoData:
        // RFC 5321 5.1: no MX records: the domain itself is the implicit MX.
        resolve_hosts({{0, domain}}, sim::DnsPurpose::kImplicitMx, done);
        return;
      case sim::DnsStatus::kOk:
        break;
    }
    if (a.mx.size() == 1 && a.mx[0].exchange == ".") {
      // RFC 7505 3: the domain accepts no mail; 556 5.1.10.
      done(permanent(556, "5.1.10", absl::StrCat("Domain ", domain, " does not accept mail (null MX, RFC 7505)")));
      return;
    }
    resolve_hosts(a.mx, sim::DnsPurpose::kExchanger, done);
  });
}

void MxRouter::route_to_host(const std::string& host, std::function<void(Route)> done) {
  resolve_hosts({{0, host}}, sim::DnsPurpose::kNamedHost, std::move(done));
}

void MxRouter::resolve_hosts(std::vector<sim::MxRecord> mx, sim::DnsPurpose purpose,
                             std::function<void(Route)> done) {
  // Sort by preference; shuffle each group of equal preference (RFC 5321 5.1:
  // "the client SHOULD randomize them to spread the load").
  std::stable_sort(mx.begin(), mx.end(), [](const auto& a, const auto& b) { return a.preference < b.preference; });
  for (std::size_t i = 0; i < mx.size();) {
    std::size_t j = i;
    while (j < mx.size() && mx[j].preference == mx[i].preference) ++j;
    if (rng_ != nullptr && j - i > 1) std::shuffle(mx.begin() + i, mx.begin() + j, *rng_);
    i = j;
  }
  auto state = std::make_shared<HostLookup>();
  state->mx = std::move(mx);
  state->done = std::move(done);
  lookup_next_host(dns_, asker_, purpose, std::move(state));
}

}  // namespace smtplab::agents
