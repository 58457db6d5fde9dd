#include "capture/tls_decryption.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <optional>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::capture {
namespace {

constexpr std::uint8_t kChangeCipherSpec = 20, kAlert = 21, kHandshake = 22, kApplicationData = 23;
constexpr std::uint8_t kClientHello = 1, kServerHello = 2, kFinished = 20;
constexpr std::uint16_t kTls13 = 0x0304;
constexpr std::size_t kTagLength = 16;
// The largest record: 2^14 octets of plaintext plus expansion (RFC 8446 5.2).
constexpr std::size_t kLargestRecord = (1 << 14) + 256;

struct Suite {
  std::uint16_t id;
  const char* name;
  const EVP_CIPHER* (*cipher)();
  const EVP_MD* (*hash)();
  std::size_t key_length;
};
constexpr Suite kSuites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", EVP_aes_128_gcm, EVP_sha256, 16},
    {0x1302, "TLS_AES_256_GCM_SHA384", EVP_aes_256_gcm, EVP_sha384, 32},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, EVP_sha256, 32},
};
// TLS 1.2's AEAD suites (RFC 5288, RFC 5289, RFC 7905): a key, and a
// 4-octet salt with an explicit nonce (GCM) or a 12-octet IV (ChaCha20).
struct Suite12 {
  std::uint16_t id;
  const char* name;
  const EVP_CIPHER* (*cipher)();
  const EVP_MD* (*hash)();
  std::size_t key_length, iv_length;
};
constexpr Suite12 kSuites12[] = {
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", EVP_aes_128_gcm, EVP_sha256, 16, 4},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", EVP_aes_256_gcm, EVP_sha384, 32, 4},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", EVP_aes_128_gcm, EVP_sha256, 16, 4},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", EVP_aes_256_gcm, EVP_sha384, 32, 4},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", EVP_aes_128_gcm, EVP_sha256, 16, 4},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", EVP_aes_256_gcm, EVP_sha384, 32, 4},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, EVP_sha256, 32, 12},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, EVP_sha256, 32, 12},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", EVP_chacha20_poly1305, EVP_sha256, 32, 12},
};

const Suite* suite_of(std::uint16_t id) {
  for (const Suite& s : kSuites) {
    if (s.id == id) return &s;
  }
  return nullptr;
}
const Suite12* suite12_of(std::uint16_t id) {
  for (const Suite12& s : kSuites12) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
           data.size(), out, &n) == nullptr) {
    return {};
  }
  return std::string(reinterpret_cast<char*>(out), n);
}

// TLS 1.2's PRF, P_hash (RFC 5246 5): A(i) = HMAC(secret, A(i-1)), output
// HMAC(secret, A(i) + label + seed) until `length` octets.
std::string prf12(const EVP_MD* md, const std::string& secret, std::string_view label, std::string_view seed,
                  std::size_t length) {
  const std::string label_seed = absl::StrCat(av(label), av(seed));
  std::string a = label_seed, out;
  while (out.size() < length) {
    a = hmac(md, secret, a);
    if (a.empty()) return {};
    out += hmac(md, secret, a + label_seed);
  }
  out.resize(length);
  return out;
}

std::uint16_t be16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(b[at]) << 8 | static_cast<std::uint8_t>(b[at + 1]));
}
std::uint32_t be24(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(b[at])) << 16 | be16(b, at + 1);
}

// HKDF-Expand-Label (RFC 8446 7.1) with an empty context, for lengths up to
// one hash block: one HMAC over the label and the counter 1 (RFC 5869 2.3).
std::string expand_label(const EVP_MD* md, const std::string& secret, std::string_view label, std::size_t length) {
  std::string info;
  info.push_back(static_cast<char>(length >> 8));
  info.push_back(static_cast<char>(length & 0xff));
  const std::string full = absl::StrCat("tls13 ", av(label));
  info.push_back(static_cast<char>(full.size()));
  info += full;
  info.push_back(0);  // no context
  info.push_back(1);  // T(1)
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(md, secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(info.data()),
           info.size(), out, &n) == nullptr ||
      n < length) {
    return {};
  }
  return std::string(reinterpret_cast<char*>(out), length);
}

// Hex to octets; nullopt for anything but pairs of hex digits.
std::optional<std::string> from_hex(std::string_view hex) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// AEAD open (RFC 8446 5.2): the header is the additional data, the tag the
// last 16 octets. Nullopt when the record does not open.
std::optional<std::string> open_record(const EVP_CIPHER* cipher, const std::string& key, const std::string& nonce,
                                       std::string_view header, std::string_view sealed) {
  if (sealed.size() < kTagLength) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1) {
    return std::nullopt;
  }
  int n = 0;
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &n, reinterpret_cast<const unsigned char*>(header.data()),
                        static_cast<int>(header.size())) != 1) {
    return std::nullopt;
  }
  const std::size_t length = sealed.size() - kTagLength;
  std::string out(length, '\0');
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                        reinterpret_cast<const unsigned char*>(sealed.data()), static_cast<int>(length)) != 1) {
    return std::nullopt;
  }
  std::string tag(sealed.substr(length));
  int rest = 0;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagLength), tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n, &rest) != 1) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

absl::StatusOr<KeyLog> KeyLog::parse(std::string_view text, std::string_view name) {
  KeyLog log;
  int number = 0;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text.remove_prefix(lf == std::string_view::npos ? text.size() : lf + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    const std::size_t a = line.find(' '), b = a == std::string_view::npos ? a : line.find(' ', a + 1);
    std::optional<std::string> random, secret;
    if (b != std::string_view::npos) {
      random = from_hex(line.substr(a + 1, b - a - 1));
      secret = from_hex(line.substr(b + 1));
    }
    if (!random || !secret || random->size() != 32 || secret->empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          av(name), ": line ", number, ": not a key log line (LABEL CLIENT_RANDOM SECRET, both in hex)"));
    }
    log.secrets_[{std::string(line.substr(0, a)), *random}] = *secret;
  }
  return log;
}

absl::StatusOr<KeyLog> KeyLog::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the key log"));
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

const std::string* KeyLog::secret(std::string_view label, std::string_view client_random) const {
  auto it = secrets_.find({std::string(label), std::string(client_random)});
  return it == secrets_.end() ? nullptr : &it->second;
}

void TlsDecryptor::fail(State state, std::string why) {
  if (state_ == State::kNoSecrets || state_ == State::kUnsupported || state_ == State::kFailed) return;
  state_ = state;
  why_ = std::move(why);
}

bool TlsDecryptor::set_keys(Direction& d, const char* label) {
  const Suite* suite = suite_of(suite_);
  const std::string* secret = keys_ != nullptr ? keys_->secret(label, client_random_) : nullptr;
  if (suite == nullptr) return false;
  if (secret == nullptr) {
    fail(State::kNoSecrets, absl::StrCat("the key log has no ", label, " for this session"));
    return false;
  }
  d.key = expand_label(suite->hash(), *secret, "key", suite->key_length);
  d.iv = expand_label(suite->hash(), *secret, "iv", 12);
  d.seq = 0;
  return !d.key.empty() && !d.iv.empty();
}

void TlsDecryptor::hello(bool from_client, std::string_view m) {
  // ClientHello and ServerHello: legacy version (2), random (32), ... (RFC 8446 4.1.2, 4.1.3).
  if (m.size() < 4 + 2 + 32) return;
  const std::uint8_t type = static_cast<std::uint8_t>(m[0]);
  std::string_view body = m.substr(4);
  if (from_client && type == kClientHello) {
    client_random_ = std::string(body.substr(2, 32));
    return;
  }
  if (from_client || type != kServerHello) return;
  server_random_ = std::string(body.substr(2, 32));
  std::size_t at = 2 + 32;
  if (at >= body.size()) return;
  at += 1 + static_cast<std::uint8_t>(body[at]);  // legacy session id
  if (at + 3 > body.size()) return;
  suite_ = be16(body, at);
  at += 3;  // the suite and legacy compression
  std::uint16_t version = be16(body, 0);
  if (at + 2 <= body.size()) {
    std::size_t end = std::min<std::size_t>(body.size(), at + 2 + be16(body, at));
    at += 2;
    while (at + 4 <= end) {
      const std::uint16_t ext = be16(body, at), len = be16(body, at + 2);
      if (ext == 0x002b && len == 2 && at + 6 <= end) version = be16(body, at + 4);  // supported_versions
      at += 4 + len;
    }
  }
  version_ = version == kTls13 ? "TLSv1.3" : version == 0x0303 ? "TLSv1.2" : "TLS (older)";
  const Suite* suite = suite_of(suite_);
  const Suite12* suite12 = suite12_of(suite_);
  cipher_ = suite != nullptr     ? suite->name
            : suite12 != nullptr ? suite12->name
                                 : absl::StrCat("suite 0x", absl::Hex(suite_, absl::kZeroPad4));
  if (version == 0x0303) {
    tls12_ = true;
    keys12();
    return;
  }
  if (version != kTls13) {
    fail(State::kUnsupported, absl::StrCat(version_, " is not decrypted here (TLS 1.2 and 1.3 are)"));
    return;
  }
  if (suite == nullptr) {
    fail(State::kUnsupported, absl::StrCat("the suite ", cipher_, " is not one this opens"));
    return;
  }
  if (client_random_.empty()) {
    fail(State::kNoSecrets, "the ClientHello is not in the capture, so its secrets cannot be found");
    return;
  }
  // From the ServerHello on, both sides protect their records (RFC 8446 2).
  if (set_keys(side_[1], "SERVER_HANDSHAKE_TRAFFIC_SECRET") && set_keys(side_[0], "CLIENT_HANDSHAKE_TRAFFIC_SECRET")) {
    side_[0].encrypted = side_[1].encrypted = true;
    state_ = State::kDecrypting;
  }
}

void TlsDecryptor::keys12() {
  const Suite12* suite = suite12_of(suite_);
  if (suite == nullptr) {
    fail(State::kUnsupported, absl::StrCat("the TLS 1.2 suite ", cipher_, " is not one this opens (AEAD suites are)"));
    return;
  }
  if (client_random_.empty()) {
    fail(State::kNoSecrets, "the ClientHello is not in the capture, so its secrets cannot be found");
    return;
  }
  const std::string* master = keys_ != nullptr ? keys_->secret("CLIENT_RANDOM", client_random_) : nullptr;
  if (master == nullptr) {
    fail(State::kNoSecrets, "the key log has no CLIENT_RANDOM for this session");
    return;
  }
  // The key block: client key, server key, client IV, server IV (RFC 5246 6.3).
  const std::size_t k = suite->key_length, v = suite->iv_length;
  const std::string block = prf12(suite->hash(), *master, "key expansion", server_random_ + client_random_, 2 * k + 2 * v);
  if (block.size() != 2 * k + 2 * v) {
    fail(State::kFailed, "the key block could not be derived");
    return;
  }
  side_[0].key = block.substr(0, k);
  side_[1].key = block.substr(k, k);
  side_[0].iv = block.substr(2 * k, v);
  side_[1].iv = block.substr(2 * k + v, v);
  state_ = State::kDecrypting;
}

// A TLS 1.2 record after this side's ChangeCipherSpec (RFC 5246 6.2.3.3):
// the additional data is the sequence number, the type, the version and
// the plaintext's length; GCM's nonce is the salt and the record's own
// explicit 8 octets (RFC 5288 3), ChaCha20's the IV and the sequence number
// (RFC 7905 2).
std::optional<std::string> TlsDecryptor::open12(Direction& d, std::string_view header, std::string_view body) {
  const Suite12* suite = suite12_of(suite_);
  std::string nonce = d.iv;
  if (suite->iv_length == 4) {
    if (body.size() < 8) return std::nullopt;
    nonce += std::string(body.substr(0, 8));
    body.remove_prefix(8);
  } else {
    for (int i = 0; i < 8; ++i) nonce[nonce.size() - 1 - i] ^= static_cast<char>((d.seq >> (8 * i)) & 0xff);
  }
  if (body.size() < kTagLength) return std::nullopt;
  std::string aad;
  for (int i = 7; i >= 0; --i) aad.push_back(static_cast<char>((d.seq >> (8 * i)) & 0xff));
  aad += std::string(header.substr(0, 3));
  const std::size_t length = body.size() - kTagLength;
  aad.push_back(static_cast<char>(length >> 8));
  aad.push_back(static_cast<char>(length & 0xff));
  auto opened = open_record(suite->cipher(), d.key, nonce, aad, body);
  if (opened) ++d.seq;
  return opened;
}

void TlsDecryptor::record(bool from_client, std::uint8_t type, std::string_view header_and_body,
                          std::string& plaintext) {
  Direction& d = side_[from_client ? 0 : 1];
  std::string_view body = header_and_body.substr(5);
  if (type == kChangeCipherSpec) {
    // In TLS 1.2 this side protects everything from here (RFC 5246 7.1); in
    // TLS 1.3 it is only there for middleboxes (RFC 8446 D.4).
    if (tls12_ && state_ == State::kDecrypting) {
      d.encrypted = d.application = true;
      d.seq = 0;
    }
    return;
  }
  if (type == kAlert && !d.encrypted) return;  // a plaintext alert
  std::uint8_t inner = type;
  std::string opened;
  if (tls12_ && d.encrypted) {
    auto got = open12(d, header_and_body.substr(0, 5), body);
    if (!got) {
      fail(State::kFailed, absl::StrCat("a record from the ", from_client ? "client" : "server",
                                        " does not open with the key log's secrets"));
      return;
    }
    opened = std::move(*got);
    body = opened;
  } else if (type == kApplicationData && d.encrypted) {
    if (state_ != State::kDecrypting) return;
    const Suite* suite = suite_of(suite_);
    std::string nonce = d.iv;
    for (int i = 0; i < 8; ++i) nonce[nonce.size() - 1 - i] ^= static_cast<char>((d.seq >> (8 * i)) & 0xff);
    auto got = open_record(suite->cipher(), d.key, nonce, header_and_body.substr(0, 5), body);
    if (!got) {
      fail(State::kFailed, absl::StrCat("a record from the ", from_client ? "client" : "server",
                                        " does not open with the key log's secrets"));
      return;
    }
    ++d.seq;
    // TLSInnerPlaintext: content, the real type, zero padding (RFC 8446 5.2).
    while (!got->empty() && got->back() == 0) got->pop_back();
    if (got->empty()) return;
    inner = static_cast<std::uint8_t>(got->back());
    got->pop_back();
    opened = std::move(*got);
    body = opened;
  }
  if (inner == kApplicationData) {
    if (d.application) plaintext.append(body);
    return;
  }
  if (inner != kHandshake) return;
  d.handshake.append(body);
  while (d.handshake.size() >= 4) {
    const std::size_t length = 4 + be24(d.handshake, 1);
    if (d.handshake.size() < length) break;
    const std::string message = d.handshake.substr(0, length);
    d.handshake.erase(0, length);
    if (!d.encrypted) {
      hello(from_client, message);
    } else if (!tls12_ && static_cast<std::uint8_t>(message[0]) == kFinished && !d.application) {
      // This side's handshake is over: its traffic secret from here (RFC 8446 7.1).
      if (set_keys(d, from_client ? "CLIENT_TRAFFIC_SECRET_0" : "SERVER_TRAFFIC_SECRET_0")) d.application = true;
    }
  }
}

void TlsDecryptor::feed(bool from_client, std::string_view bytes, std::string& plaintext) {
  if (state_ == State::kFailed || state_ == State::kUnsupported || state_ == State::kNoSecrets) return;
  Direction& d = side_[from_client ? 0 : 1];
  d.in.append(bytes);
  std::size_t at = 0;
  while (d.in.size() - at >= 5) {
    const std::uint8_t type = static_cast<std::uint8_t>(d.in[at]);
    const std::size_t length = be16(d.in, at + 3);
    if (type < kChangeCipherSpec || type > kApplicationData || length > kLargestRecord) {
      fail(State::kFailed, "these octets are not TLS records");
      return;
    }
    if (d.in.size() - at < 5 + length) break;
    record(from_client, type, std::string_view(d.in).substr(at, 5 + length), plaintext);
    at += 5 + length;
    if (state_ == State::kFailed || state_ == State::kUnsupported || state_ == State::kNoSecrets) return;
  }
  d.in.erase(0, at);
}

}  // namespace smtplab::capture
