// DNS messages as a host's resolver library and its server exchange them over UDP
// (RFC 1035 4.1): the query, and the answer with its records, for the DNS
// packets of an exported capture.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/wire_observer.hpp"

namespace smtplab::capture {

// Nullopt when a name cannot be written as labels (an empty label, one over
// 63 octets, or more than 255 octets in all: RFC 1035 2.3.4).
std::optional<std::string> dns_query_message(std::uint16_t id, const sim::WireDnsQuestion& question);
std::optional<std::string> dns_answer_message(std::uint16_t id, const sim::WireDnsQuestion& question, int rcode,
                                              const std::vector<sim::WireDnsRecord>& answers);

}  // namespace smtplab::capture
