#include "agents/auth/dkim_crypto.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "base/absl_string_view.hpp"

namespace smtplab::auth {

void PkeyFree::operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }

namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

Pkey public_key_of(DkimKeyType type, std::string_view der) {
  if (type == DkimKeyType::kEd25519) {
    if (der.size() != 32) return nullptr;
    return Pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(der), der.size()));
  }
  const unsigned char* p = bytes(der);
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) {
    // RFC 6376 3.6.1 names RSAPublicKey; most publish SubjectPublicKeyInfo. Take both.
    p = bytes(der);
    key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
  }
  if (key && EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) return nullptr;
  return key;
}

}  // namespace

std::string sha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

SignatureCheck verify_signature(DkimKeyType type, std::string_view public_key, std::string_view data,
                                std::string_view signature) {
  Pkey key = public_key_of(type, public_key);
  if (!key) return SignatureCheck::kBadKey;
  if (type == DkimKeyType::kRsa && EVP_PKEY_get_bits(key.get()) < 1024) return SignatureCheck::kKeyTooSmall;
  MdCtx ctx(EVP_MD_CTX_new());
  if (type == DkimKeyType::kEd25519) {
    const std::string digest = sha256(data);  // RFC 8463 3: Ed25519 signs the hash
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return SignatureCheck::kBadKey;
    return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(digest), digest.size()) == 1
               ? SignatureCheck::kValid
               : SignatureCheck::kInvalid;
  }
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) return SignatureCheck::kBadKey;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(data), data.size()) == 1
             ? SignatureCheck::kValid
             : SignatureCheck::kInvalid;
}

Pkey load_private_key(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

Pkey generate_key(DkimKeyType type, int bits) {
  if (type == DkimKeyType::kEd25519) return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

std::optional<DkimKeyType> key_type(const Pkey& key) {
  if (!key) return std::nullopt;
  switch (EVP_PKEY_get_base_id(key.get())) {
    case EVP_PKEY_RSA: return DkimKeyType::kRsa;
    case EVP_PKEY_ED25519: return DkimKeyType::kEd25519;
    default: return std::nullopt;
  }
}

std::string private_key_pem(const Pkey& key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string public_key_record_value(const Pkey& key) {
  std::string der;
  if (key_type(key) == DkimKeyType::kEd25519) {
    std::size_t size = 32;
    der.resize(size);
    if (EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(der.data()), &size) != 1) return {};
    der.resize(size);
  } else {
    unsigned char* out = nullptr;
    const int size = i2d_PUBKEY(key.get(), &out);
    if (size <= 0) return {};
    der.assign(reinterpret_cast<const char*>(out), static_cast<std::size_t>(size));
    OPENSSL_free(out);
  }
  return absl::Base64Escape(av(der));
}

std::string sign_data(const Pkey& key, std::string_view data) {
  std::optional<DkimKeyType> type = key_type(key);
  if (!type) return {};
  MdCtx ctx(EVP_MD_CTX_new());
  std::string digest;
  std::string_view input = data;
  if (*type == DkimKeyType::kEd25519) {
    digest = sha256(data);
    input = digest;
    if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return {};
  } else if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1) {
    return {};
  }
  std::size_t size = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &size, bytes(input), input.size()) != 1) return {};
  std::string out(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &size, bytes(input), input.size()) != 1) {
    return {};
  }
  out.resize(size);
  return out;
}

}  // namespace smtplab::auth
