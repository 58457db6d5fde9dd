#include "agents/message_composer.hpp"

#include <cstdint>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agents/smtp/address.hpp"
#include "agents/smtp/data_framing.hpp"
#include "base/absl_string_view.hpp"

namespace smtplab::agents {

std::string format_rfc5322_date(absl::Time time) {
  // A busy run writes the same second many times (a Received header at every
  // hop) and time-zone formatting is slow: keep the last second's text.
  thread_local std::int64_t cached_second = std::numeric_limits<std::int64_t>::min();
  thread_local std::string cached;
  const std::int64_t second = absl::ToUnixSeconds(time);  // rounds down, as %S shows it
  if (second != cached_second) {
    cached = absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", absl::FromUnixSeconds(second), absl::UTCTimeZone());
    cached_second = second;
  }
  return cached;
}

std::string compose_message(const MessageDraft& draft) {
  // RFC 2047: a header with non-ASCII text is sent as an encoded-word.
  const std::string subject = smtp::has_non_ascii(draft.subject)
                                  ? absl::StrCat("=?UTF-8?B?", absl::Base64Escape(draft.subject), "?=")
                                  : draft.subject;
  const bool eight_bit = smtp::has_non_ascii(draft.body);
  std::string out;
  absl::StrAppend(&out, "From: ", draft.from, "\r\n");
  absl::StrAppend(&out, "To: ", absl::StrJoin(draft.to, ", "), "\r\n");
  absl::StrAppend(&out, "Subject: ", subject, "\r\n");
  absl::StrAppend(&out, "Date: ", format_rfc5322_date(draft.date), "\r\n");
  absl::StrAppend(&out, "Message-ID: <", draft.message_id, ">\r\n");
  absl::StrAppend(&out, "MIME-Version: 1.0\r\n");
  absl::StrAppend(&out, "Content-Type: text/plain; charset=", eight_bit ? "utf-8" : "us-ascii", "\r\n");
  // RFC 6152: 8-bit text is marked as such (and sent with BODY=8BITMIME).
  absl::StrAppend(&out, "Content-Transfer-Encoding: ", eight_bit ? "8bit" : "7bit", "\r\n\r\n");
  std::string body = smtp::normalize_to_crlf(draft.body);
  if (!body.empty() && (body.size() < 2 || body.compare(body.size() - 2, 2, "\r\n") != 0)) body += "\r\n";
  out += body;
  return out;
}

}  // namespace smtplab::agents
