// The envelope picture as one small OpenGL texture, drawn tinted with its
// state's colour: one quad per envelope, so a thousand of them stay cheap
// even for Mesa's software renderer.
#pragma once

#include <imgui.h>

namespace smtplab::viz {

constexpr int kEnvelopeWidth = 22;
constexpr int kEnvelopeHeight = 14;

// Made on first use (a GL context must be current).
ImTextureID envelope_texture();

}  // namespace smtplab::viz
