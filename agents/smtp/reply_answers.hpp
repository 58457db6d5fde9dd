// What a server's reply answers, named once. The trace carries it (detail
// "answers" of smtp.reply) so that a reply is explained by what it answers,
// not by its code alone: a 250 to EHLO lists extensions, a 250 to RCPT takes
// one recipient, a 250 after the final dot takes responsibility for the
// message. A command's replies are named by its verb as verb_name() spells
// it ("EHLO", "RCPT"); everything else is one of these.
#pragma once

namespace smtplab::smtp::reply_answers {

inline constexpr char kGreeting[] = "greeting";          // the first reply, unasked (RFC 5321 3.1)
inline constexpr char kEndOfData[] = "end_of_data";      // DATA's final "." (RFC 5321 4.1.1.4)
// LMTP: one of the replies to the final ".", one per accepted recipient (RFC 2033 4.2).
inline constexpr char kEndOfDataForRecipient[] = "end_of_data_recipient";
inline constexpr char kLastChunk[] = "bdat_last";        // BDAT ... LAST: the whole message (RFC 3030 2)
inline constexpr char kAuthResponse[] = "auth_response";  // a client line inside a SASL exchange (RFC 4954 4)
inline constexpr char kNothing[] = "nothing";            // said unasked: a timeout, a shutdown (RFC 5321 3.8)

}  // namespace smtplab::smtp::reply_answers
