#include "viz/app/palette.hpp"

namespace smtplab::viz {

Rgb role_colour(Role role) {
  switch (role) {
    case Role::kMua: return kMuaColour;
    case Role::kMsa: return kMsaColour;
    case Role::kMta: return kMtaColour;
    case Role::kMda: return kMdaColour;
    case Role::kOther: return kDnsColour;
  }
  return kDnsColour;
}

Rgb envelope_colour(EnvelopeState state, bool is_bounce) {
  switch (state) {
    case EnvelopeState::kComposing:
    case EnvelopeState::kTravelling: return is_bounce ? kEnvelopeBounced : kEnvelopeTravelling;
    case EnvelopeState::kQueued: return is_bounce ? kEnvelopeBounced : kEnvelopeQueued;
    case EnvelopeState::kDeferred: return kEnvelopeDeferred;
    case EnvelopeState::kDelivered: return is_bounce ? kEnvelopeBounced : kEnvelopeDelivered;
    case EnvelopeState::kBounced:
    case EnvelopeState::kRejected: return kEnvelopeBounced;
  }
  return kEnvelopeTravelling;
}

std::uint32_t packed(Rgb c, std::uint8_t alpha) {
  return (static_cast<std::uint32_t>(alpha) << 24) | (static_cast<std::uint32_t>(c.b) << 16) |
         (static_cast<std::uint32_t>(c.g) << 8) | c.r;
}

}  // namespace smtplab::viz
