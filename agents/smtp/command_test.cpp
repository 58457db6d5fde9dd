#include "agents/smtp/command.hpp"

#include <gtest/gtest.h>

namespace smtplab::smtp {
namespace {

// RFC 5321 2.4: verbs are case-insensitive.
// RFC 5321 2.4: verbs are case-insensitive; only the whole word counts, so
// a longer word, a shorter one, or one with a NUL after it is no verb.
TEST(CommandTest, VerbsAreFoundWhateverTheirCaseAndOnlyWhole) {
  const std::pair<std::string_view, Verb> verbs[] = {
      {"EHLO", Verb::kEhlo}, {"helo", Verb::kHelo}, {"Mail", Verb::kMail},   {"rCpT", Verb::kRcpt},
      {"DATA", Verb::kData}, {"bdat", Verb::kBdat}, {"RSET", Verb::kRset},   {"vrfy", Verb::kVrfy},
      {"EXPN", Verb::kExpn}, {"help", Verb::kHelp}, {"NOOP", Verb::kNoop},   {"quit", Verb::kQuit},
      {"StartTLS", Verb::kStarttls}, {"auth", Verb::kAuth}, {"LHLO", Verb::kLhlo}, {"send", Verb::kObsolete},
      {"SOML", Verb::kObsolete}, {"saml", Verb::kObsolete}, {"TURN", Verb::kObsolete}};
  for (const auto& [word, verb] : verbs) EXPECT_EQ(verb_from_word(word), verb) << word;
  for (std::string_view word : {"", "MAI", "MAILX", "STARTTLSX", "M@IL", "MA1L"}) {
    EXPECT_EQ(verb_from_word(word), Verb::kUnknown) << word;
  }
  EXPECT_EQ(verb_from_word(std::string_view("MAIL\0", 5)), Verb::kUnknown);
  EXPECT_EQ(verb_from_word(std::string_view("QUIT\0\0\0\0", 8)), Verb::kUnknown);
}

TEST(CommandTest, VerbsAreCaseInsensitive) {
  EXPECT_EQ(parse_command("ehlo client.example").command.verb, Verb::kEhlo);
  EXPECT_EQ(parse_command("MaIl FROM:<a@b.example>").command.verb, Verb::kMail);
  EXPECT_EQ(parse_command("starttls").command.verb, Verb::kStarttls);
  EXPECT_EQ(parse_command("XYZZY").command.verb, Verb::kUnknown);
  EXPECT_EQ(parse_command("TURN").command.verb, Verb::kObsolete);
}

TEST(CommandTest, MailWithAllParameters) {
  auto p = parse_command("MAIL FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B1",
                         {.allow_utf8 = true});
  ASSERT_TRUE(p.ok()) << p.error->message;
  EXPECT_EQ(p.command.path.mailbox.to_string(), "a@b.example");
  EXPECT_EQ(p.command.mail.size, 1000u);
  EXPECT_EQ(p.command.mail.body, BodyType::k8BitMime);
  EXPECT_TRUE(p.command.mail.smtputf8);
  EXPECT_EQ(p.command.mail.ret, "HDRS");
  EXPECT_EQ(p.command.mail.envid, "QQ+1");  // RFC 3461 4: xtext "+2B" is "+"
}

// RFC 3461 4.1 and 4.2.
TEST(CommandTest, RcptDsnParameters) {
  auto p = parse_command("RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c+40d.example");
  ASSERT_TRUE(p.ok()) << p.error->message;
  EXPECT_EQ(p.command.rcpt.notify, (std::vector<std::string>{"SUCCESS", "FAILURE"}));
  EXPECT_EQ(p.command.rcpt.orcpt, "rfc822;c@d.example");
  EXPECT_FALSE(parse_command("RCPT TO:<c@d.example> NOTIFY=NEVER,SUCCESS").ok());
  EXPECT_FALSE(parse_command("RCPT TO:<c@d.example> NOTIFY=SOMETIMES").ok());
}

// RFC 5321 4.2.3: 555 for parameters not recognized.
TEST(CommandTest, UnknownParameterIs555) {
  auto p = parse_command("MAIL FROM:<a@b.example> FOO=bar");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error->code, 555);
  auto dup = parse_command("MAIL FROM:<a@b.example> SIZE=1 SIZE=2");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error->code, 501);
}

TEST(CommandTest, PathErrorsPointIntoTheLine) {
  auto p = parse_command("MAIL FROM:<alice@exa mple.org>");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error->code, 501);
  EXPECT_EQ(p.error->enhanced, "5.1.7");  // RFC 3463: bad sender mailbox syntax
  EXPECT_EQ(p.error->message.substr(0, 10), "column 21:");
  auto r = parse_command("RCPT TO:<bob@>");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->enhanced, "5.1.3");  // bad destination mailbox syntax
  EXPECT_FALSE(parse_command("MAIL TO:<a@b.example>").ok());
  EXPECT_FALSE(parse_command("MAIL FROM:a@b.example").ok());
  EXPECT_FALSE(parse_command("RCPT TO:<>").ok());  // null path is reverse-only (RFC 5321 4.1.1.3)
}

TEST(CommandTest, SpaceAfterColonIsTolerated) {
  auto p = parse_command("MAIL FROM: <a@b.example>");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.command.path.mailbox.domain, "b.example");
}

// RFC 6531 3.5: a non-ASCII address needs SMTPUTF8.
TEST(CommandTest, NonAsciiWithoutSmtputf8Is553) {
  auto p = parse_command("RCPT TO:<j\xC3\xBCrgen@example.org>");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error->code, 553);
  EXPECT_EQ(p.error->enhanced, "5.6.7");
}

TEST(CommandTest, ArgumentRules) {
  EXPECT_FALSE(parse_command("EHLO").ok());
  EXPECT_FALSE(parse_command("EHLO bad_host!").ok());
  EXPECT_TRUE(parse_command("HELO [127.0.0.1]").ok());
  EXPECT_FALSE(parse_command("DATA now").ok());
  EXPECT_FALSE(parse_command("QUIT please").ok());
  EXPECT_TRUE(parse_command("NOOP anything goes").ok());
  EXPECT_FALSE(parse_command("VRFY").ok());
}

// RFC 3030 2: BDAT chunk-size [LAST].
TEST(CommandTest, Bdat) {
  auto p = parse_command("BDAT 42 LAST");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.command.chunk_size, 42u);
  EXPECT_TRUE(p.command.last_chunk);
  EXPECT_FALSE(parse_command("BDAT").ok());
  EXPECT_FALSE(parse_command("BDAT -1").ok());
  EXPECT_FALSE(parse_command("BDAT 10 FIRST").ok());
  // chunk-size is digits only: no sign, no tab (which a lenient number
  // parser would trim), no more than 20 digits.
  EXPECT_FALSE(parse_command("BDAT 3\t").ok());
  EXPECT_FALSE(parse_command("BDAT +3").ok());
  EXPECT_FALSE(parse_command("BDAT 123456789012345678901").ok());
  // Well-formed but over 2^64-1: a size problem for the session, not a syntax error.
  auto huge = parse_command("BDAT 99999999999999999999");
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge.command.chunk_size, UINT64_MAX);
  EXPECT_EQ(parse_command("BDAT 18446744073709551615").command.chunk_size, UINT64_MAX);
  EXPECT_EQ(parse_command("BDAT 18446744073709551614").command.chunk_size, UINT64_MAX - 1);
}

// RFC 1870 6: size-value = 1*20DIGIT. Twenty nines are well formed; the
// value saturates so that the session answers it as too large (552), not as
// bad syntax (501).
TEST(CommandTest, SizeTakesTwentyDigits) {
  auto p = parse_command("MAIL FROM:<a@b.example> SIZE=99999999999999999999");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p.command.mail.size.has_value());
  EXPECT_EQ(*p.command.mail.size, UINT64_MAX);
  EXPECT_FALSE(parse_command("MAIL FROM:<a@b.example> SIZE=123456789012345678901").ok());
  EXPECT_FALSE(parse_command("MAIL FROM:<a@b.example> SIZE=+5").ok());
  EXPECT_FALSE(parse_command("MAIL FROM:<a@b.example> SIZE=").ok());
}

// RFC 4954 4.
TEST(CommandTest, Auth) {
  auto p = parse_command("AUTH plain AGFsaWNlAHNlY3JldA==");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.command.mechanism, "PLAIN");
  EXPECT_EQ(p.command.initial_response, "AGFsaWNlAHNlY3JldA==");
  EXPECT_FALSE(parse_command("AUTH").ok());
}

TEST(CommandTest, FormatRoundTrips) {
  for (std::string_view line : {"EHLO client.example", "MAIL FROM:<> SIZE=12 BODY=8BITMIME RET=FULL ENVID=x+2By",
                                "RCPT TO:<a@b.example> NOTIFY=DELAY ORCPT=rfc822;a+2Bx@b.example",
                                "BDAT 10 LAST", "AUTH LOGIN", "QUIT"}) {
    auto p = parse_command(line);
    ASSERT_TRUE(p.ok()) << line << ": " << p.error->message;
    EXPECT_EQ(format_command(p.command), std::string(line) + "\r\n");
  }
}

TEST(CommandTest, Xtext) {
  EXPECT_EQ(xtext_encode("a+b=c d"), "a+2Bb+3Dc+20d");
  EXPECT_EQ(xtext_decode("a+2Bb+3Dc+20d").value(), "a+b=c d");
  EXPECT_FALSE(xtext_decode("a+2").ok());
  EXPECT_FALSE(xtext_decode("a+zz").ok());
}

}  // namespace
}  // namespace smtplab::smtp
