// DKIM's canonicalization (RFC 6376 3.4): the forms of header fields and body
// that the signer and the verifier both hash, so that what transit may change
// ("relaxed": case of names, runs of white space, trailing empty lines) does
// not break a signature, or ("simple") almost nothing may change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agents/auth/mail_message.hpp"

namespace smtplab::auth {

enum class Canonicalization : std::uint8_t { kSimple, kRelaxed };
std::string_view canonicalization_name(Canonicalization c);  // "simple", "relaxed"

// c= of a signature: "header/body", either half defaulting to simple (3.5).
struct CanonicalizationPair {
  Canonicalization header = Canonicalization::kSimple;
  Canonicalization body = Canonicalization::kSimple;
};
std::optional<CanonicalizationPair> parse_canonicalization(std::string_view text);
std::string canonicalization_text(CanonicalizationPair pair);  // "relaxed/simple"

// One header field, `raw` as it arrived (name, colon, value, folding, final
// CRLF), in canonical form with its CRLF (3.4.1, 3.4.2).
std::string canonical_header(std::string_view raw, Canonicalization c);

// The body in canonical form (3.4.3, 3.4.4). An l= tag counts octets of this
// form, so a verifier cuts it after canonicalizing (3.5).
std::string canonical_body(std::string_view body, Canonicalization c);

// The fields `names` (h=) select, canonical and concatenated: for each name
// the last instance not yet taken, from the bottom up; a name with no
// instance left adds nothing (5.4.2). Signer and verifier both hash this.
std::string canonical_signed_fields(const MailMessage& message, const std::vector<std::string>& names,
                                    Canonicalization c);

}  // namespace smtplab::auth
