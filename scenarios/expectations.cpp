#include "scenarios/expectations.hpp"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"
#include "sim/time_text.hpp"

namespace smtplab::scenarios {
namespace {

std::string when(std::int64_t us) { return sim::clock_text(us); }

bool in_window(const ExpectSpec& e, std::int64_t t) {
  if (e.by && t > absl::ToInt64Microseconds(*e.by)) return false;
  if (e.after && t < absl::ToInt64Microseconds(*e.after)) return false;
  return true;
}

std::string window_text(const ExpectSpec& e) {
  std::string out;
  if (e.after) absl::StrAppend(&out, " after ", sim::duration_text(*e.after));
  if (e.by) absl::StrAppend(&out, " by ", sim::duration_text(*e.by));
  return out;
}

bool count_ok(const ExpectSpec& e, std::size_t n) { return e.count < 0 ? n > 0 : n == static_cast<std::size_t>(e.count); }

// "a" or, for count: 0, "no": "no attack.read event at ...".
std::string article(const ExpectSpec& e, std::string_view next_word = "x") {
  if (e.count == 0) return "no ";
  return !next_word.empty() && std::string_view("aeiou").find(next_word[0]) != std::string_view::npos ? "an " : "a ";
}

std::string times(const ExpectSpec& e) {
  if (e.count < 0) return "";
  if (e.count == 0) return "";  // the sentence starts with "no" instead
  return absl::StrCat(" exactly ", e.count, " time(s)");
}

bool same_address(const std::string* a, const std::string& b) {
  return a != nullptr && absl::EqualsIgnoreCase(av(*a), av(b));
}

// Events that were what the expectation looks for except for one filter (the
// host, or the text): when nothing matched, the result says what did happen
// instead, so "never deferred" is never said of a deferral with another text
// ("no deferral like that; 3 deferral(s) without ...").
class NearMisses {
 public:
  void note(const sim::TraceEvent& e, bool host_matched) {
    auto& m = host_matched ? text_ : host_;
    if (m.count++ == 0) m.first = &e;
  }
  bool any() const { return text_.count > 0 || host_.count > 0; }
  // "; 2 deferral(s) said something else, the first at 5m: "451 ..."".
  std::string describe(const ExpectSpec& spec, std::string_view noun) const {
    std::string out;
    if (text_.count > 0) {
      absl::StrAppend(&out, "; ", text_.count, " ", av(noun), " without \"", spec.text, "\", the first at ",
                      when(text_.first->time_us), ": \"", text_.first->text, "\"");
    }
    if (host_.count > 0) {
      absl::StrAppend(&out, "; ", host_.count, " ", av(noun), " at other hosts, the first at ", host_.first->host, " at ",
                      when(host_.first->time_us));
    }
    return out;
  }

 private:
  struct Miss {
    std::size_t count = 0;
    const sim::TraceEvent* first = nullptr;
  };
  Miss host_;
  Miss text_;
};

std::string saying(const ExpectSpec& spec, std::string_view verb) {
  return spec.text.empty() ? "" : absl::StrCat(" ", av(verb), " \"", spec.text, "\"");
}

}  // namespace

std::vector<ExpectationResult> check_expectations(const Scenario& scenario, const ScenarioWorld& world) {
  const auto& events = world.trace.events();
  std::set<std::string> dsn_ids;
  for (const auto& e : events) {
    if (e.kind == sim::EventKind::kMessageDsn) {
      if (const auto* id = e.detail(sim::detail_key::kDsnMessageId)) dsn_ids.insert(*id);
    }
  }
  std::vector<ExpectationResult> results;
  for (const auto& spec : scenario.expects) {
    ExpectationResult r;
    r.spec = &spec;
    std::size_t n = 0, outside = 0;
    std::int64_t first = -1, first_outside = -1;
    auto seen = [&](const sim::TraceEvent& e) {
      if (!in_window(spec, e.time_us)) {
        if (first_outside < 0) first_outside = e.time_us;
        ++outside;
        return;
      }
      if (first < 0) first = e.time_us;
      ++n;
    };
    NearMisses misses;
    // An event of the kind looked for: counted when the host and text filters
    // match too, kept as a near miss when one of them does not.
    auto consider = [&](const sim::TraceEvent& e) {
      const bool host_ok = spec.host.empty() || e.host == spec.host;
      const bool text_ok = spec.text.empty() || absl::StrContains(e.text, spec.text);
      if (host_ok && text_ok) {
        seen(e);
      } else {
        misses.note(e, host_ok);
      }
    };
    // "none" is misleading when it happened, only at the wrong time, or with
    // another text or at another host.
    auto none = [&](const char* nothing, std::string_view noun = {}) {
      std::string out = outside == 0 ? std::string(nothing)
                                     : absl::StrCat(nothing, " in that window; ", outside,
                                                    " outside it, the first at ", when(first_outside));
      if (!noun.empty()) absl::StrAppend(&out, misses.describe(spec, noun));
      return out;
    };
    switch (spec.kind) {
      case ExpectSpec::Kind::kDelivered:
      case ExpectSpec::Kind::kNotDelivered:
        for (const auto& e : events) {
          if (e.kind == sim::EventKind::kMailboxDeliver && same_address(e.detail(sim::detail_key::kRecipient), spec.to) && !dsn_ids.count(e.message)) {
            seen(e);
          }
        }
        if (spec.kind == ExpectSpec::Kind::kDelivered) {
          r.expected = absl::StrCat(spec.to, " receives a message", window_text(spec), times(spec));
          r.met = count_ok(spec, n);
        } else {
          r.expected = absl::StrCat(spec.to, " receives nothing", window_text(spec));
          r.met = n == 0;
        }
        r.found = n == 0 ? none("no delivery") : absl::StrCat(n, " delivered, the first at ", when(first));
        break;
      case ExpectSpec::Kind::kBounced:
        for (const auto& e : events) {
          if (e.kind == sim::EventKind::kMailboxDeliver && same_address(e.detail(sim::detail_key::kRecipient), spec.to) && dsn_ids.count(e.message)) {
            seen(e);
          }
        }
        r.expected = absl::StrCat(article(spec), "bounce (DSN) reaches ", spec.to, window_text(spec), times(spec));
        r.met = count_ok(spec, n);
        r.found = n == 0 ? none("no bounce in the mailbox") : absl::StrCat(n, " bounce(s), the first at ", when(first));
        break;
      case ExpectSpec::Kind::kReply:
        for (const auto& e : events) {
          if (e.kind == sim::EventKind::kSmtpReply && e.code == spec.code) consider(e);
        }
        r.expected = absl::StrCat(article(spec), spec.code, " reply", spec.host.empty() ? "" : " from " + spec.host,
                                  saying(spec, "saying"), window_text(spec), times(spec));
        r.met = count_ok(spec, n);
        r.found = n == 0 ? none("none", absl::StrCat(spec.code, " reply(s)"))
                         : absl::StrCat(n, " seen, the first at ", when(first));
        break;
      case ExpectSpec::Kind::kDeferred:
        for (const auto& e : events) {
          if (e.kind == sim::EventKind::kQueueDefer &&
              (spec.to.empty() || same_address(e.detail(sim::detail_key::kRecipient), spec.to))) {
            consider(e);
          }
        }
        r.expected = absl::StrCat("delivery is deferred", spec.to.empty() ? "" : " for " + spec.to,
                                  spec.host.empty() ? "" : " at " + spec.host, saying(spec, "with"),
                                  window_text(spec), times(spec));
        r.met = count_ok(spec, n);
        r.found = n == 0 ? none(misses.any() ? "no deferral like that" : "never deferred", "deferral(s)")
                         : absl::StrCat(n, " deferral(s), the first at ", when(first));
        break;
      case ExpectSpec::Kind::kQueueEmpty: {
        const std::size_t queued = world.queued_messages();
        r.expected = "every queue is empty at the end";
        r.met = queued == 0;
        r.found = queued == 0 ? "all queues empty" : absl::StrCat(queued, " message(s) still queued");
        break;
      }
      case ExpectSpec::Kind::kEvent:
        for (const auto& e : events) {
          if (e.kind == spec.event_kind) consider(e);
        }
        r.expected = absl::StrCat(article(spec, sim::name_of(spec.event_kind)), sim::name_of(spec.event_kind), " event",
                                  spec.host.empty() ? "" : " at " + spec.host, saying(spec, "mentioning"),
                                  window_text(spec), times(spec));
        r.met = count_ok(spec, n);
        r.found = n == 0 ? none("none", absl::StrCat(sim::name_of(spec.event_kind), " event(s)"))
                         : absl::StrCat(n, " seen, the first at ", when(first));
        break;
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace smtplab::scenarios
