// TLS read back from a capture with the session's secrets: an NSS key log
// (SSLKEYLOGFILE, OpenSSL's keylog callback, smtplab's --keylog) and the
// records of both directions. The handshake's plaintext hellos give the
// client random (which names the secrets in the log), the server random, the
// version and the suite. TLS 1.3 (RFC 8446) with its three suites: each
// traffic secret gives a key and an IV (7.3), each record is opened with its
// sequence number (5.3) and its inner type read (5.2). TLS 1.2 (RFC 5246)
// with the AEAD suites (AES-GCM, ChaCha20-Poly1305): the master secret and
// both randoms give the key block (6.3), records are protected after each
// side's ChangeCipherSpec. Other versions and suites (CBC) are said, not
// opened. Sans-I/O: records in, plaintext out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace smtplab::capture {

class KeyLog {
 public:
  // Errors name the file and the line of a line that is not "LABEL HEX HEX".
  static absl::StatusOr<KeyLog> read(const std::string& path);
  static absl::StatusOr<KeyLog> parse(std::string_view text, std::string_view name);
  // The secret for `label` of the session whose ClientHello random is
  // `client_random` (32 octets); null when the log does not have it.
  const std::string* secret(std::string_view label, std::string_view client_random) const;
  std::size_t size() const { return secrets_.size(); }

 private:
  std::map<std::pair<std::string, std::string>, std::string> secrets_;  // (label, random) -> secret
};

class TlsDecryptor {
 public:
  enum class State {
    kHandshake,    // the hellos are not both here yet
    kDecrypting,   // keys found: records open
    kNoSecrets,    // the key log has nothing for this session
    kUnsupported,  // TLS 1.2 or older, or a suite this does not open
    kFailed,       // a record did not open (wrong secrets, or not TLS)
  };
  explicit TlsDecryptor(const KeyLog* keys) : keys_(keys) {}

  // Records from one side; the application data they carry, decrypted, is
  // appended to `plaintext`.
  void feed(bool from_client, std::string_view bytes, std::string& plaintext);

  State state() const { return state_; }
  // Both sides' Finished have been read: the handshake is over (RFC 8446 4.4.4).
  bool handshake_done() const { return side_[0].application && side_[1].application; }
  const std::string& why() const { return why_; }  // for kNoSecrets and after
  // "TLSv1.3" and the suite's name, once the server's hello has been read.
  const std::string& version() const { return version_; }
  const std::string& cipher() const { return cipher_; }

 private:
  struct Direction {
    std::string in;          // octets of records not yet whole
    std::string handshake;   // decrypted handshake messages not yet whole
    std::string key, iv;
    std::uint64_t seq = 0;
    bool encrypted = false;  // records of type 23 are protected from now on
    bool application = false;  // past this side's Finished: traffic keys
  };
  void record(bool from_client, std::uint8_t type, std::string_view body, std::string& plaintext);
  void keys12();  // TLS 1.2: the key block, from the suite and the randoms
  std::optional<std::string> open12(Direction& d, std::string_view header, std::string_view body);
  void hello(bool from_client, std::string_view handshake);
  bool set_keys(Direction& d, const char* label);
  void fail(State state, std::string why);

  const KeyLog* keys_;
  State state_ = State::kHandshake;
  std::string why_;
  std::string version_, cipher_;
  std::string client_random_, server_random_;
  bool tls12_ = false;
  std::uint16_t suite_ = 0;
  Direction side_[2];  // 0: the client's records, 1: the server's
};

}  // namespace smtplab::capture
