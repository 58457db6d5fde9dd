// Colours, one meaning each, shared by every view and by the screenshot
// test (which looks for them at known places).
#pragma once

#include <cstdint>

#include "viz/model/journeys.hpp"
#include "viz/model/world_state.hpp"

namespace smtplab::viz {

struct Rgb {
  std::uint8_t r, g, b;
};

// Node fills by role.
constexpr Rgb kMuaColour{66, 133, 244};   // blue
constexpr Rgb kMsaColour{156, 92, 214};   // purple
constexpr Rgb kMtaColour{242, 153, 42};   // orange
constexpr Rgb kMdaColour{52, 168, 83};    // green
constexpr Rgb kDnsColour{120, 128, 140};  // grey
constexpr Rgb kDownColour{70, 70, 70};    // a host that is down

// Envelopes by state.
constexpr Rgb kEnvelopeTravelling{250, 250, 250};
constexpr Rgb kEnvelopeQueued{255, 235, 130};
constexpr Rgb kEnvelopeDeferred{255, 170, 40};
constexpr Rgb kEnvelopeDelivered{120, 230, 140};
constexpr Rgb kEnvelopeBounced{235, 70, 60};
constexpr Rgb kTlsBadge{40, 200, 230};  // a lock: the hop used TLS
constexpr Rgb kTlsUnverifiedBadge{255, 120, 200};  // TLS, but the certificate did not verify

constexpr Rgb kBackground{24, 26, 31};

Rgb role_colour(Role role);
Rgb envelope_colour(EnvelopeState state, bool is_bounce);
// As ImGui's packed ABGR colour.
std::uint32_t packed(Rgb c, std::uint8_t alpha = 255);

}  // namespace smtplab::viz
