// The STARTTLS downgrade attack: an attacker on the link rewrites the
// STARTTLS line of the server's EHLO reply (to "XXXXXXXA", as seen in the
// wild), so a client that uses TLS only when offered stays in plaintext, and
// the attacker then reads everything. A client that requires TLS notices the
// missing STARTTLS and sends nothing; once TLS starts, the attacker sees only
// ciphertext. Every step is recorded in the trace. With `strip` false it
// only listens: a passive eavesdropper, blind once TLS starts.
#pragma once

#include <set>

#include "sim/inprocess/link_tap.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::sim {

class StartTlsStripper : public LinkTap {
 public:
  explicit StartTlsStripper(Trace* trace, bool strip = true) : trace_(trace), strip_(strip) {}
  std::string on_bytes(std::uint64_t connection, const std::string& from, const std::string& to,
                       std::string bytes) override;

 private:
  void record(EventKind kind, std::uint64_t connection, const std::string& from, const std::string& to,
              std::string text);
  Trace* trace_;
  bool strip_;
  std::set<std::uint64_t> encrypted_;  // connections where TLS records were seen
};

}  // namespace smtplab::sim
