// libFuzzer target: any sequence of TCP segments, in any order, with any
// flags and sequence numbers, through the reassembler and the SMTP
// observer (capture_import.hpp's import_segments). Nothing may crash, hang
// or read out of bounds, whatever a capture holds.
//
// Input: records of [side: 1][flags: 1][offset: 2, signed][length: 1][payload],
// each segment's sequence number the side's running one plus the offset.
#include <cstdint>
#include <string>
#include <vector>

#include "capture/capture_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::capture;
  const SocketAddress ends[2] = {{*parse_ip("192.0.2.10"), 40001}, {*parse_ip("192.0.2.20"), 25}};
  std::uint32_t running[2] = {1000, 5000};
  std::vector<std::string> payloads;
  std::vector<TcpSegment> segments;
  payloads.reserve(size / 5 + 1);
  std::size_t i = 0;
  int tick = 0;
  while (i + 5 <= size && segments.size() < 2000) {
    const int side = data[i] & 1;
    const std::uint8_t flags = data[i + 1];
    const auto offset = static_cast<std::int16_t>(data[i + 2] << 8 | data[i + 3]);
    std::size_t length = data[i + 4];
    i += 5;
    length = std::min(length, size - i);
    payloads.emplace_back(reinterpret_cast<const char*>(data + i), length);
    i += length;
    TcpSegment s;
    s.at = absl::FromUnixSeconds(1767225600) + absl::Milliseconds(++tick);
    s.src = ends[side];
    s.dst = ends[1 - side];
    s.seq = running[side] + static_cast<std::uint32_t>(static_cast<std::int32_t>(offset));
    s.flags = flags;
    s.payload = payloads.back();
    if (offset >= 0) running[side] += static_cast<std::uint32_t>(length);
    segments.push_back(s);
  }
  ReassemblySettings small;
  small.max_buffered = 4096;  // so the give-up path is reached too
  ImportOptions options;
  options.reassembly = small;
  const ImportedCapture r = import_segments(segments, options);
  // The trace is in time order and numbered from 1.
  for (std::size_t k = 0; k < r.events.size(); ++k) {
    if (r.events[k].sequence != k + 1) __builtin_trap();
    if (k > 0 && r.events[k].time_us < r.events[k - 1].time_us) __builtin_trap();
  }
  return 0;
}
