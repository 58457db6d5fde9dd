#include "capture/packet_comments.hpp"

#include <algorithm>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "agents/smtp/utf8.hpp"
#include "scenarios/explanations.hpp"

namespace smtplab::capture {
namespace {

bool is_server_bytes(const WireRecord& r) {
  const auto* b = std::get_if<wire::Bytes>(&r.body);
  return b != nullptr && b->from == sim::WireSide::kServer;
}

std::uint64_t connection_of(const WireRecord& r) {
  return std::visit(
      [](const auto& body) -> std::uint64_t {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, wire::DnsQuery> || std::is_same_v<T, wire::DnsAnswer>) {
          return 0;
        } else {
          return body.connection;
        }
      },
      r.body);
}

// The first sentence of a paragraph: up to a full stop followed by a space
// and a capital (so "4.1.1.1" and "e.g." stay inside).
std::string first_sentence(const std::string& paragraph) {
  for (std::size_t i = 0; i + 2 < paragraph.size(); ++i) {
    if (paragraph[i] == '.' && paragraph[i + 1] == ' ' && paragraph[i + 2] >= 'A' && paragraph[i + 2] <= 'Z') {
      return paragraph.substr(0, i + 1);
    }
  }
  return paragraph;
}

// Replaces what is not UTF-8 (a client may send any octets) with U+FFFD:
// pcapng comments are UTF-8.
std::string valid_utf8(std::string text) {
  std::string out;
  std::string_view rest = text;
  while (auto bad = smtp::first_invalid_utf8(rest)) {
    out.append(rest.substr(0, *bad));
    out.append("\xEF\xBF\xBD");
    rest.remove_prefix(*bad + 1);
  }
  if (out.empty()) return text;
  out.append(rest);
  return out;
}

}  // namespace

std::vector<std::vector<const sim::TraceEvent*>> explaining_events(const std::vector<WireRecord>& records,
                                                                   const std::vector<sim::TraceEvent>& events) {
  std::vector<std::vector<const sim::TraceEvent*>> out(records.size());
  // Each connection's records, in order; and the DNS ones.
  std::map<std::uint64_t, std::vector<std::size_t>> by_connection;
  std::vector<std::size_t> dns;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::uint64_t c = connection_of(records[i]);
    (c == 0 ? dns : by_connection[c]).push_back(i);
  }
  // The last of `list` marked before event `seq`: marks never decrease along a list.
  auto last_before = [&](const std::vector<std::size_t>& list, std::uint64_t seq) -> const std::size_t* {
    auto it = std::partition_point(list.begin(), list.end(),
                                   [&](std::size_t i) { return records[i].stamp.trace_mark < seq; });
    return it == list.begin() ? nullptr : &*std::prev(it);
  };
  for (const sim::TraceEvent& e : events) {
    if (e.kind == sim::EventKind::kDnsQuery || e.kind == sim::EventKind::kDnsAnswer) {
      const std::size_t* i = last_before(dns, e.sequence);
      if (i == nullptr) continue;
      const WireRecord& r = records[*i];
      const bool query = e.kind == sim::EventKind::kDnsQuery;
      const sim::WireDnsQuestion* q = query ? (std::holds_alternative<wire::DnsQuery>(r.body)
                                                   ? &std::get<wire::DnsQuery>(r.body).question
                                                   : nullptr)
                                            : (std::holds_alternative<wire::DnsAnswer>(r.body)
                                                   ? &std::get<wire::DnsAnswer>(r.body).question
                                                   : nullptr);
      if (q != nullptr && q->asker == e.host) out[*i].push_back(&e);
      continue;
    }
    if (e.connection == 0) continue;
    auto list = by_connection.find(e.connection);
    if (list == by_connection.end()) continue;
    if (e.kind == sim::EventKind::kSmtpReply) {
      auto it = std::find_if(list->second.begin(), list->second.end(), [&](std::size_t i) {
        return records[i].stamp.trace_mark >= e.sequence && is_server_bytes(records[i]);
      });
      if (it != list->second.end()) out[*it].push_back(&e);
      continue;
    }
    if (const std::size_t* i = last_before(list->second, e.sequence)) out[*i].push_back(&e);
  }
  return out;
}

std::string packet_comment(const sim::TraceEvent& e) {
  // The first citation in parentheses, whole: "RFC 5321 3.1, 4.2.3".
  static const std::regex kCitation(R"(\([^()]*?(RFC [^()]*)\))");
  const std::string paragraph = scenarios::explain_event(e);
  std::string sentence = first_sentence(paragraph);
  if (sentence.find("RFC") == std::string::npos) {
    std::smatch m;
    if (std::regex_search(paragraph, m, kCitation)) sentence = absl::StrCat(sentence, " (", m[1].str(), ")");
  }
  // A reply refined with the reason it was given (reply.451.greylisted):
  // that reason is what the packet is about.
  if (e.kind == sim::EventKind::kSmtpReply) {
    const std::size_t second_dot = e.explain.find('.', std::string_view("reply.").size());
    if (second_dot != std::string::npos) {
      const std::string why = scenarios::explain_reply_reason(std::string_view(e.explain).substr(second_dot + 1));
      if (!why.empty()) absl::StrAppend(&sentence, " ", first_sentence(why));
    }
  }
  const char* who = e.kind == sim::EventKind::kSmtpCommand ? "C: " : e.kind == sim::EventKind::kSmtpReply ? "S: " : "";
  std::string comment = absl::StrCat("[", e.explain.empty() ? std::string(sim::name_of(e.kind)) : e.explain,
                                     "] ", who, e.text);
  if (!sentence.empty()) absl::StrAppend(&comment, " | ", sentence);
  return valid_utf8(std::move(comment));
}

}  // namespace smtplab::capture
