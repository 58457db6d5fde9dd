#include "viz/app/envelope_sprite.hpp"

#include <GL/gl.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace smtplab::viz {
namespace {

// White paper (tinted to the state's colour when drawn), a dark border and
// the flap as a V from the top corners to just below the middle.
std::vector<std::uint32_t> envelope_pixels() {
  const int w = kEnvelopeWidth, h = kEnvelopeHeight;
  const std::uint32_t paper = 0xFFFFFFFF, ink = 0xFF141414;  // ABGR
  std::vector<std::uint32_t> px(static_cast<std::size_t>(w * h), paper);
  auto set = [&](int x, int y) {
    if (x >= 0 && x < w && y >= 0 && y < h) px[static_cast<std::size_t>(y * w + x)] = ink;
  };
  for (int x = 0; x < w; ++x) {
    set(x, 0);
    set(x, h - 1);
  }
  for (int y = 0; y < h; ++y) {
    set(0, y);
    set(w - 1, y);
  }
  const float cx = (w - 1) / 2.0f, cy = h / 2.0f + 1;
  for (int x = 0; x < w; ++x) {
    const float t = std::abs(static_cast<float>(x) - cx) / cx;  // 1 at the corners, 0 in the middle
    set(x, static_cast<int>(std::lround(cy * (1 - t))));
  }
  return px;
}

}  // namespace

ImTextureID envelope_texture() {
  static GLuint texture = 0;
  if (texture == 0) {
    const auto px = envelope_pixels();
    glGenTextures(1, &texture);
    glBindTexture(GL_TEXTURE_2D, texture);
    // Nearest: drawn at its own size, every pixel lands exactly.
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, kEnvelopeWidth, kEnvelopeHeight, 0, GL_RGBA, GL_UNSIGNED_BYTE, px.data());
  }
  return reinterpret_cast<ImTextureID>(static_cast<std::intptr_t>(texture));
}

}  // namespace smtplab::viz
