#include "agents/smtp/utf8.hpp"

namespace smtplab::smtp {
namespace {

bool in(unsigned char c, unsigned char low, unsigned char high) { return c >= low && c <= high; }

// The length of the well-formed sequence at text[i], or 0 (RFC 3629 4).
std::size_t sequence_at(std::string_view text, std::size_t i) {
  auto at = [&](std::size_t k) -> unsigned char {
    return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
  };
  auto tail = [&](std::size_t k) { return in(at(k), 0x80, 0xBF); };
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  if (in(c, 0xC2, 0xDF)) return tail(1) ? 2 : 0;
  // The second octet's range rules out overlongs (E0, F0), surrogates (ED)
  // and code points past U+10FFFF (F4).
  if (c == 0xE0) return in(at(1), 0xA0, 0xBF) && tail(2) ? 3 : 0;
  if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) return tail(1) && tail(2) ? 3 : 0;
  if (c == 0xED) return in(at(1), 0x80, 0x9F) && tail(2) ? 3 : 0;
  if (c == 0xF0) return in(at(1), 0x90, 0xBF) && tail(2) && tail(3) ? 4 : 0;
  if (in(c, 0xF1, 0xF3)) return tail(1) && tail(2) && tail(3) ? 4 : 0;
  if (c == 0xF4) return in(at(1), 0x80, 0x8F) && tail(2) && tail(3) ? 4 : 0;
  return 0;  // 80-C1 (a tail or an overlong lead) and F5-FF never begin one
}

}  // namespace

std::optional<std::size_t> first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = sequence_at(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

}  // namespace smtplab::smtp
