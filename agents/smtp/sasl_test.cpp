#include "agents/smtp/sasl.hpp"

#include <gtest/gtest.h>

namespace smtplab::smtp {
namespace {

// RFC 4616 2: message = [authzid] NUL authcid NUL passwd.
TEST(SaslTest, PlainRoundTrip) {
  const std::string encoded = encode_plain("", "alice", "s3cret");
  EXPECT_EQ(encoded, "AGFsaWNlAHMzY3JldA==");
  auto creds = decode_plain(encoded);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->user, "alice");
  EXPECT_EQ(creds->password, "s3cret");
  EXPECT_EQ(creds->authorization_id, "");
}

TEST(SaslTest, PlainNeedsTwoNuls) {
  EXPECT_FALSE(decode_plain(base64_encode("alice")).ok());
  EXPECT_FALSE(decode_plain(base64_encode(std::string("\0\0pw", 4))).ok());  // empty user
}

// RFC 4954 4: a response that is not valid base64 is refused.
TEST(SaslTest, StrictBase64) {
  EXPECT_FALSE(base64_decode("abc").ok());
  EXPECT_FALSE(base64_decode("ab=c").ok());
  EXPECT_FALSE(base64_decode("a*cd").ok());
  EXPECT_EQ(base64_decode(kLoginUserPrompt).value(), "Username:");
  EXPECT_EQ(base64_decode(kLoginPasswordPrompt).value(), "Password:");
}

}  // namespace
}  // namespace smtplab::smtp
