#include "sim/tls/openssl_handles.hpp"

#include <openssl/err.h>

namespace smtplab::tls {

std::string drain_openssl_errors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    // Keep the readable reason, the last field of "error:CODE:lib:func:reason".
    std::string line(buf);
    const auto colon = line.rfind(':');
    out += colon == std::string::npos ? line : line.substr(colon + 1);
  }
  return out;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace smtplab::tls
