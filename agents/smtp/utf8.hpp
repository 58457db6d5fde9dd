// UTF-8 as RFC 3629 section 4 defines it, the one check for every place
// SMTP lets non-ASCII octets in (RFC 6531 3.3: EHLO/HELO domains, mailboxes
// and esmtp-values, once SMTPUTF8 is in play). Not UTF-8: overlong forms
// (C0 AF for '/'), surrogates (ED A0 80), code points above U+10FFFF
// (F4 90 80 80), stray continuation octets, and sequences cut short.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace smtplab::smtp {

// The offset of the first octet that does not begin a well-formed UTF-8
// sequence; none when all of `text` is UTF-8.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) { return !first_invalid_utf8(text).has_value(); }

}  // namespace smtplab::smtp
