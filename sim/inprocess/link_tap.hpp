// Something on the path between two hosts that sees, and may rewrite, every
// byte crossing it: the on-path attacker of lessons about TLS. Taps exist
// only on in-process links; a real socket has no such hook.
#pragma once

#include <cstdint>
#include <string>

namespace smtplab::sim {

class LinkTap {
 public:
  virtual ~LinkTap() = default;
  // `bytes` travel from host `from` to host `to` on `connection`; the
  // return value is what arrives.
  virtual std::string on_bytes(std::uint64_t connection, const std::string& from, const std::string& to,
                               std::string bytes) = 0;
};

}  // namespace smtplab::sim
