// What the explanation files share (explanations.hpp is the public face):
// the tables of SMTP's words and the explainers of one subject each.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "sim/trace/trace_event.hpp"

namespace smtplab::scenarios::explanation_parts {

// SMTP (explanations_smtp.cpp): reply codes (RFC 5321 4.2), enhanced codes
// (RFC 3463), commands and EHLO keywords.
const std::map<int, std::string>& reply_codes();
const std::map<std::string, std::string>& enhanced_details();
const std::map<std::string, std::string>& commands();
const std::map<std::string, std::string>& extensions();
// "250-PIPELINING" -> "PIPELINING": the keyword an EHLO reply line names.
std::string reply_keyword(std::string_view line);
// A reply explained by what it answers (the trace's "answers" detail), or
// empty when the context adds nothing to the code's own meaning.
std::string explain_reply_in_context(const sim::TraceEvent& e, const std::string& answers);

// DNS (explanations_dns.cpp): a query by why it was asked, an answer by its type.
std::string explain_dns(const sim::TraceEvent& e);

// A detail of the event, or empty.
inline std::string detail(const sim::TraceEvent& e, const char* name) {
  const std::string* v = e.detail(name);
  return v == nullptr ? std::string() : *v;
}

}  // namespace smtplab::scenarios::explanation_parts
