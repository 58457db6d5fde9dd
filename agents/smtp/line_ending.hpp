// How a server treats a bare CR or bare LF (one not part of CRLF). RFC 5321
// 2.3.8 allows only CRLF as a line end, and servers that treat a bare LF as one
// can be tricked into seeing "<LF>.<LF>" as the end of the message: that is
// SMTP smuggling (CVE-2023-51764 and relatives). The lenient settings exist so
// students can watch the difference.
#pragma once

namespace smtplab::smtp {

enum class BareLineEnding {
  kReject,            // default: the command or message is refused (RFC 5321 2.3.8)
  kNormalize,         // a bare LF counts as CRLF in text, but end of data needs a real CRLF.CRLF (Postfix "normalize")
  kAcceptAsLineEnd,   // UNSAFE: a bare LF ends lines everywhere, so "<LF>.<LF>" ends the data
};

}  // namespace smtplab::smtp
