#include "agents/message_headers.hpp"

#include <gtest/gtest.h>

namespace smtplab::agents {
namespace {

const char kMessage[] =
    "Received: from a.example\r\n\tby b.example; Fri, 4 Dec 2026 10:00:00 +0000\r\n"
    "message-id:  <1.mua@client.example>  \r\n"
    "Subject: two\r\n words\r\n"
    "\r\n"
    "Date: in the body, not a header\r\n";

// RFC 5322 2.2: field names are case-insensitive; the value is what follows
// the colon, without the surrounding white space.
TEST(MessageHeadersTest, FindsAHeaderWhateverItsCase) {
  EXPECT_EQ(find_header(kMessage, "Message-ID"), "<1.mua@client.example>");
  EXPECT_EQ(message_id_of(kMessage), "1.mua@client.example");
}

// RFC 5322 2.2.3: a folded header is unfolded by removing each CRLF that is
// followed by white space.
TEST(MessageHeadersTest, UnfoldsFoldedHeaders) {
  EXPECT_EQ(find_header(kMessage, "Subject"), "two words");
  EXPECT_EQ(find_header(kMessage, "Received"), "from a.example\tby b.example; Fri, 4 Dec 2026 10:00:00 +0000");
}

// RFC 5322 2.1: the header section ends at the first empty line; a line in
// the body that looks like a header is not one.
TEST(MessageHeadersTest, StopsAtTheEndOfTheHeaderSection) {
  EXPECT_EQ(find_header(kMessage, "Date"), std::nullopt);
  EXPECT_EQ(find_header("\r\nMessage-ID: <x@y>\r\n", "Message-ID"), std::nullopt);
  EXPECT_EQ(message_id_of("Subject: none\r\n\r\nbody\r\n"), "");
  EXPECT_EQ(find_header("Subject:x", "Subject"), "x");  // the last line need not end with CRLF
}

}  // namespace
}  // namespace smtplab::agents
