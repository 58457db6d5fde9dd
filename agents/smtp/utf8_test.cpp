#include "agents/smtp/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace smtplab::smtp {
namespace {

// RFC 3629 4: the well-formed sequences, at the edges of each range.
TEST(Utf8Test, WellFormedSequencesPass) {
  for (const std::string s : {"", "ascii only", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
                              "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
                              "gr\xc3\xbc\xc3\x9f" "e.example", "\xe9\x82\xae\xe4\xbb\xb6"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
  }
}

// What RFC 3629 10 warns about, and what an outside probe of the sink sent.
TEST(Utf8Test, OverlongsSurrogatesAndOutOfRangeFail) {
  struct Case {
    std::string text;
    std::size_t at;
  };
  for (const Case& c : {Case{"\xc0\xaf", 0},                // overlong '/'
                        Case{"a\xc1\xbf", 1},               // overlong 2-octet lead
                        Case{"\xe0\x80\x80", 0},            // overlong 3-octet
                        Case{"\xf0\x80\x80\x80", 0},        // overlong 4-octet
                        Case{"ok\xed\xa0\x80", 2},          // surrogate U+D800
                        Case{"\xed\xbf\xbf", 0},            // surrogate U+DFFF
                        Case{"\xf4\x90\x80\x80", 0},        // U+110000
                        Case{"\xf5\x80\x80\x80", 0},        // lead past F4
                        Case{"\xff", 0},
                        Case{"x\x80", 1},                   // stray continuation
                        Case{"\xc3", 0},                    // cut short
                        Case{"\xe4\xbb", 0},
                        Case{"\xc0\xaf\xf5\x80.example", 0}}) {
    EXPECT_EQ(first_invalid_utf8(c.text), c.at) << c.text;
  }
}

}  // namespace
}  // namespace smtplab::smtp
