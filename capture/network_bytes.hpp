// Writing numbers in network byte order (big-endian, RFC 1700's "network
// order"), as the headers of IP, TCP, UDP and DNS carry them.
#pragma once

#include <cstdint>
#include <string>

namespace smtplab::capture {

inline void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
inline void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}
// Overwrites the two octets at `at`.
inline void set16(std::string& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<char>(v >> 8);
  out[at + 1] = static_cast<char>(v & 0xff);
}

}  // namespace smtplab::capture
