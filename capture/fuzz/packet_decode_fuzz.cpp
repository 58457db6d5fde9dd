// libFuzzer target: any frame under any link type this reads
// (packet_decode.hpp). The first octet picks the link type; a segment's
// payload must lie inside the frame.
#include <cstdint>
#include <string_view>

#include "capture/packet_decode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::capture;
  if (size == 0) return 0;
  constexpr int kTypes[] = {kDltNull, kDltEthernet, kDltRaw, kDltRawAlt, kDltLoop, kDltLinuxSll, kDltLinuxSll2,
                            kLinktypeRaw};
  const int dlt = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  const std::string_view frame(reinterpret_cast<const char*>(data + 1), size - 1);
  const Decoded d = decode_frame(dlt, frame, absl::UnixEpoch());
  if (d.segment) {
    const char* begin = frame.data();
    const char* end = frame.data() + frame.size();
    if (d.segment->payload.data() < begin || d.segment->payload.data() + d.segment->payload.size() > end) {
      __builtin_trap();
    }
  }
  return 0;
}
