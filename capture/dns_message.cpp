#include "capture/dns_message.hpp"

#include <string_view>

#include "capture/network_bytes.hpp"
#include "capture/packets.hpp"

namespace smtplab::capture {
namespace {


constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kTypeA = 1, kTypeMx = 15, kTypeTxt = 16, kTypeAaaa = 28;

// A domain name as length-prefixed labels ending in the root's empty label.
bool put_name(std::string& out, std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::size_t written = 1;
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return false;
    written += label.size() + 1;
    if (written > 255) return false;
    out.push_back(static_cast<char>(label.size()));
    out.append(label);
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out.push_back(0);
  return true;
}

bool put_question(std::string& out, const sim::WireDnsQuestion& q) {
  if (!put_name(out, q.name)) return false;
  put16(out, q.type);
  put16(out, kClassIn);
  return true;
}

// The RDATA of one record (RFC 1035 3.3.9 MX, 3.3.14 TXT, 3.4.1 A; RFC 3596 2.2 AAAA).
bool put_rdata(std::string& out, const sim::WireDnsRecord& r) {
  switch (r.type) {
    case kTypeA:
    case kTypeAaaa: {
      auto ip = parse_ip(r.value);
      if (!ip || ip->v6 != (r.type == kTypeAaaa)) return false;
      out.append(reinterpret_cast<const char*>(ip->bytes.data()), ip->size());
      return true;
    }
    case kTypeMx:
      put16(out, r.preference);
      return put_name(out, r.value == "." ? std::string_view() : std::string_view(r.value));
    case kTypeTxt: {
      // One or more character-strings of at most 255 octets each.
      std::string_view rest = r.value;
      do {
        const std::string_view part = rest.substr(0, 255);
        out.push_back(static_cast<char>(part.size()));
        out.append(part);
        rest.remove_prefix(part.size());
      } while (!rest.empty());
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> dns_query_message(std::uint16_t id, const sim::WireDnsQuestion& question) {
  std::string m;
  put16(m, id);
  put16(m, 0x0100);  // a standard query, recursion desired
  put16(m, 1);       // one question
  put16(m, 0);
  put16(m, 0);
  put16(m, 0);
  if (!put_question(m, question)) return std::nullopt;
  return m;
}

std::optional<std::string> dns_answer_message(std::uint16_t id, const sim::WireDnsQuestion& question, int rcode,
                                              const std::vector<sim::WireDnsRecord>& answers) {
  std::string m;
  put16(m, id);
  // A response, recursion desired and available, and the rcode.
  put16(m, static_cast<std::uint16_t>(0x8180 | (rcode & 0xf)));
  put16(m, 1);
  put16(m, static_cast<std::uint16_t>(answers.size()));
  put16(m, 0);
  put16(m, 0);
  if (!put_question(m, question)) return std::nullopt;
  for (const auto& r : answers) {
    put16(m, 0xc00c);  // the owner is the question's name, at offset 12 (RFC 1035 4.1.4)
    put16(m, r.type);
    put16(m, kClassIn);
    put32(m, r.ttl);
    const std::size_t length_at = m.size();
    put16(m, 0);
    if (!put_rdata(m, r)) return std::nullopt;
    set16(m, length_at, static_cast<std::uint16_t>(m.size() - length_at - 2));
  }
  return m;
}

}  // namespace smtplab::capture
