// A message as the authentication checks read it (RFC 5322 2.1): header
// fields exactly as they arrived, folding and all, and the body. DKIM signs
// and verifies these bytes, so nothing here unfolds or normalizes; views
// point into the caller's text, which must outlive them.
#pragma once

#include <string_view>
#include <vector>

namespace smtplab::auth {

struct HeaderField {
  std::string_view name;  // before the colon, as written
  std::string_view raw;   // the whole field with its folding, final CRLF included
  std::string_view value; // after the colon up to the final CRLF, folding kept
};

struct MailMessage {
  std::vector<HeaderField> fields;  // in order, top first
  std::string_view body;            // after the empty line; empty when there is none
};

// Splits `text` (CRLF line ends) into its fields and body. A line without a
// colon in the header ends the header there, as a receiver would read it.
MailMessage parse_mail_message(std::string_view text);

}  // namespace smtplab::auth
