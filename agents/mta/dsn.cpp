#include "agents/mta/dsn.hpp"

#include "absl/strings/str_cat.h"
#include "agents/message_composer.hpp"
#include "agents/message_headers.hpp"

namespace smtplab::agents {

std::string compose_dsn(const DsnInput& in) {
  const std::string boundary = absl::StrCat(in.dsn_message_id, "/", in.reporting_mta);
  const bool failed = !in.recipients.empty() && in.recipients[0].action == "failed";
  std::string out;
  absl::StrAppend(&out, "From: MAILER-DAEMON@", in.reporting_mta, " (Mail Delivery System)\r\n");
  absl::StrAppend(&out, "To: <", in.original_sender, ">\r\n");
  absl::StrAppend(&out, "Subject: ", failed ? "Undelivered Mail Returned to Sender" : "Delayed Mail (still being retried)",
                  "\r\n");
  absl::StrAppend(&out, "Date: ", format_rfc5322_date(in.now), "\r\n");
  absl::StrAppend(&out, "Message-ID: <", in.dsn_message_id, ">\r\n");
  // RFC 3834: an automatic reply, so no one auto-replies to it in turn.
  absl::StrAppend(&out, "Auto-Submitted: auto-replied\r\n");
  absl::StrAppend(&out, "MIME-Version: 1.0\r\n");
  absl::StrAppend(&out, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"", boundary,
                  "\"\r\n\r\n");
  absl::StrAppend(&out, "This is a MIME-encapsulated message.\r\n\r\n");

  absl::StrAppend(&out, "--", boundary, "\r\nContent-Description: Notification\r\n",
                  "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
  absl::StrAppend(&out, "This is the mail system at host ", in.reporting_mta, ".\r\n\r\n");
  absl::StrAppend(&out, failed ? "I'm sorry to have to inform you that your message could not\r\n"
                                 "be delivered to one or more recipients. It's attached below.\r\n\r\n"
                               : "Your message could not be delivered yet; the mail system\r\n"
                                 "will keep trying.\r\n\r\n");
  for (const auto& r : in.recipients) {
    absl::StrAppend(&out, "<", r.final_recipient, ">: ",
                    r.remote_mta.empty() ? "" : absl::StrCat("host ", r.remote_mta, " said: "), r.diagnostic, "\r\n");
  }
  absl::StrAppend(&out, "\r\n");

  // RFC 3464 2.2 per-message fields, then 2.3 per-recipient fields.
  absl::StrAppend(&out, "--", boundary, "\r\nContent-Description: Delivery report\r\n",
                  "Content-Type: message/delivery-status\r\n\r\n");
  absl::StrAppend(&out, "Reporting-MTA: dns; ", in.reporting_mta, "\r\n");
  absl::StrAppend(&out, "Arrival-Date: ", format_rfc5322_date(in.arrival_date), "\r\n");
  for (const auto& r : in.recipients) {
    absl::StrAppend(&out, "\r\nFinal-Recipient: rfc822; ", r.final_recipient, "\r\n");
    absl::StrAppend(&out, "Action: ", r.action, "\r\n");
    absl::StrAppend(&out, "Status: ", r.status, "\r\n");
    if (!r.remote_mta.empty()) absl::StrAppend(&out, "Remote-MTA: dns; ", r.remote_mta, "\r\n");
    absl::StrAppend(&out, "Diagnostic-Code: smtp; ", r.diagnostic, "\r\n");
  }
  absl::StrAppend(&out, "\r\n");

  // The original headers only (RET=HDRS is the polite default for bounces).
  absl::StrAppend(&out, "--", boundary, "\r\nContent-Description: Undelivered Message Headers\r\n",
                  "Content-Type: text/rfc822-headers\r\n\r\n");
  out += header_section(in.original_message);
  absl::StrAppend(&out, "\r\n--", boundary, "--\r\n");
  return out;
}

}  // namespace smtplab::agents
