// libFuzzer target: a key log and TLS records from both sides, in any
// chunks, through KeyLog::parse and the TlsDecryptor (tls_decryption.hpp).
//
// Input: [key log length: 2][key log text][chunks: side and length in one
// octet (top bit: the server), then that many octets]...
#include <cstdint>
#include <string>
#include <string_view>

#include "capture/tls_decryption.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::capture;
  if (size < 2) return 0;
  const std::size_t log_length = std::min<std::size_t>(data[0] << 8 | data[1], size - 2);
  const std::string_view text(reinterpret_cast<const char*>(data + 2), log_length);
  auto keys = KeyLog::parse(text, "fuzz");
  TlsDecryptor tls(keys.ok() ? &*keys : nullptr);
  std::string plaintext;
  std::size_t i = 2 + log_length;
  while (i < size) {
    const bool from_server = data[i] & 0x80;
    const std::size_t n = std::min<std::size_t>(data[i] & 0x7f ? (data[i] & 0x7f) * 16 : 1, size - i - 1);
    ++i;
    tls.feed(!from_server, std::string_view(reinterpret_cast<const char*>(data + i), n), plaintext);
    i += n;
  }
  return 0;
}
