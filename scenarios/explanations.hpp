// Plain-language explanations, each with the RFC section it comes from: of
// reply codes (RFC 5321 4.2), enhanced status codes (RFC 3463) and every kind
// of trace event. One source for the stepper, `smtplab explain` and the
// visualizer.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::scenarios {

// "451": what the code means; nullopt for a code no RFC defines.
std::optional<std::string> explain_reply_code(int code);
// "4.7.1" (or "5.1.1"...): class, subject and detail of RFC 3463.
std::optional<std::string> explain_enhanced_code(const std::string& code);
// For `smtplab explain WHAT`: a reply code, an enhanced code, or a trace event kind.
std::optional<std::string> explain_query(const std::string& what);
// One paragraph about this event: what happened and why, with the RFC.
std::string explain_event(const sim::TraceEvent& event);
// One paragraph about the lines of one multi-line reply, shown together (the
// stepper's step): the answer to EHLO with what each extension offers;
// otherwise what the last line says.
std::string explain_reply_lines(std::span<const sim::TraceEvent> lines);
// One paragraph about commands a client sent in one write (the first, then
// those with details.pipelined): what PIPELINING is and how the replies come.
std::string explain_pipelined_batch(std::span<const sim::TraceEvent> commands);

// What a reply's refinement means (smtp::Reply::reason, agents/smtp/reply_reason.hpp):
// "greylisted" -> a sentence about greylisting; empty for a reason it does not know.
std::string explain_reply_reason(std::string_view reason);

}  // namespace smtplab::scenarios
