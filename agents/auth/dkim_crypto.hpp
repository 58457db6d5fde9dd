// The cryptography of DKIM with OpenSSL 3: SHA-256, RSA PKCS#1 v1.5 with
// SHA-256 (RFC 6376 3.3.1), and Ed25519 over the SHA-256 of the data (RFC
// 8463 3). Keys come as DNS publishes them (p=: an RSA SubjectPublicKeyInfo
// or RSAPublicKey in DER, or Ed25519's 32 raw octets) or as PEM files.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "agents/auth/dkim_signature.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace smtplab::auth {

std::string sha256(std::string_view data);

struct PkeyFree {
  void operator()(EVP_PKEY* key) const;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

enum class SignatureCheck {
  kValid,
  kInvalid,      // the signature does not verify
  kBadKey,       // p= is not a key of the type
  kKeyTooSmall,  // an RSA key under 1024 bits (RFC 8301 3.2)
};

SignatureCheck verify_signature(DkimKeyType type, std::string_view public_key, std::string_view data,
                                std::string_view signature);

// A private key from PEM (PKCS#8 or traditional RSA), or nothing.
Pkey load_private_key(std::string_view pem);
// A new key: RSA of `bits`, or Ed25519.
Pkey generate_key(DkimKeyType type, int bits = 2048);
std::optional<DkimKeyType> key_type(const Pkey& key);
std::string private_key_pem(const Pkey& key);  // PKCS#8
// p= for the key's DNS record: base64 of the SubjectPublicKeyInfo (RSA) or of
// the raw public key (Ed25519, RFC 8463 4.2).
std::string public_key_record_value(const Pkey& key);
// The signature of `data` (RSA) or of its SHA-256 (Ed25519); empty on failure.
std::string sign_data(const Pkey& key, std::string_view data);

}  // namespace smtplab::auth
