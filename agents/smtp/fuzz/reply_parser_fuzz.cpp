// Fuzz target: arbitrary server output through the reply parser, fed in two
// pieces; every reply it yields must format and parse back to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agents/smtp/reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::smtp;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ReplyParser parser;
  const std::size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  parser.feed(bytes.substr(0, cut));
  int guard = 0;
  auto drain = [&] {
    while (auto r = parser.next()) {
      if (++guard > 100000) std::abort();  // the parser must make progress
      if (!r->ok()) continue;
      ReplyParser again;
      again.feed((*r)->format());
      auto back = again.next();
      if (!back || !back->ok() || (*back)->code != (*r)->code || (*back)->lines.size() != (*r)->lines.size()) {
        std::abort();
      }
    }
  };
  drain();
  parser.feed(bytes.substr(cut));
  drain();
  return 0;
}
