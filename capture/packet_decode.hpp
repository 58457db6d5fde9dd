// A captured frame down to its TCP segment: the link layers libpcap hands
// over (Ethernet with 802.1Q tags, raw IP, Linux cooked v1 and v2, BSD
// loopback), then IPv4 or IPv6, then TCP. Frames that are not TCP over IP,
// or are cut short, or are IP fragments, are not segments; each is said why,
// so that the import can count them. Bounds are checked on every field:
// this parses bytes from anyone's capture.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "capture/tcp_reassembly.hpp"

namespace smtplab::capture {

// libpcap's DLT_ numbers this reads (pcap/dlt.h).
inline constexpr int kDltNull = 0, kDltEthernet = 1, kDltRaw = 12, kDltRawAlt = 14, kDltLoop = 108,
                     kDltLinuxSll = 113, kDltLinuxSll2 = 276, kLinktypeRaw = 101;
bool is_supported_link_type(int dlt);

enum class NotTcp { kOtherProtocol, kTruncated, kFragment, kBadHeader };
std::string_view not_tcp_name(NotTcp why);

struct Decoded {
  std::optional<TcpSegment> segment;  // the payload views into the frame
  NotTcp why = NotTcp::kOtherProtocol;
};

Decoded decode_frame(int dlt, std::string_view frame, absl::Time at);

}  // namespace smtplab::capture
