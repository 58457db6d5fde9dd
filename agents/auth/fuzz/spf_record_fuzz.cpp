// Fuzz target: any text as the SPF record of example.com, parsed and then
// evaluated for a client against a small zone. Whatever the record says, the
// check must end (the lookup limits bound it) with a result of the RFC 7208
// 2.6 set, and a record that parsed must have only domain-specs and networks
// its own checks accept.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "agents/auth/dns_zone.hpp"
#include "agents/auth/spf_check.hpp"
#include "agents/auth/spf_macro.hpp"
#include "agents/auth/spf_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::auth;
  const std::string record(reinterpret_cast<const char*>(data), size);
  SpfRecordParse parsed = parse_spf_record(record);
  if (const auto* r = std::get_if<SpfRecord>(&parsed)) {
    for (const SpfMechanism& m : r->mechanisms) {
      if (!m.domain_spec.empty() && domain_spec_error(m.domain_spec)) std::abort();
      if ((m.kind == SpfMechanismKind::kIp4 || m.kind == SpfMechanismKind::kIp6) && !m.network) std::abort();
      if (m.ip4_prefix < 0 || m.ip4_prefix > 32 || m.ip6_prefix < 0 || m.ip6_prefix > 128) std::abort();
    }
  }
  DnsZone zone;
  zone.add("example.com", DnsType::kTxt, record);
  zone.add("example.com", DnsType::kA, "192.0.2.1");
  zone.add("example.com", DnsType::kMx, "example.com");
  zone.add("1.2.0.192.in-addr.arpa", DnsType::kPtr, "example.com");
  zone.add_cname("loop.example.com", "loop.example.com");
  for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
    SpfCheck check({.ip = *IpAddress::parse(ip), .mail_from = "a.b@example.com", .helo = "example.com"});
    int questions = 0;
    SpfVerdict verdict = run_spf_check(check, [&](const DnsQuestion& q) {
      if (++questions > 1000) std::abort();  // the limits of RFC 7208 4.6.4 bound a check far below this
      return zone.resolve(q);
    });
    if (spf_result_name(verdict.result) == "?") std::abort();
  }
  return 0;
}
