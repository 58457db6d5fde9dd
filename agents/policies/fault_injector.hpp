// Makes a server answer a chosen reply at a chosen step: "the second RCPT
// gets 421", "the first message gets 554 after DATA". For scenarios that
// need a failure no real policy would produce on cue.
#pragma once

#include <string>
#include <vector>

#include "agents/policies/policy_hook.hpp"

namespace smtplab::agents {

enum class SmtpStep { kConnect, kMail, kRcpt, kDataEnd };

// "connect", "mail", "rcpt", "data": as scenarios name the steps.
inline std::string_view smtp_step_name(SmtpStep step) {
  switch (step) {
    case SmtpStep::kConnect: return "connect";
    case SmtpStep::kMail: return "mail";
    case SmtpStep::kRcpt: return "rcpt";
    case SmtpStep::kDataEnd: return "data";
  }
  return "rcpt";
}
inline std::optional<SmtpStep> parse_smtp_step(std::string_view name) {
  for (SmtpStep s : {SmtpStep::kConnect, SmtpStep::kMail, SmtpStep::kRcpt, SmtpStep::kDataEnd}) {
    if (smtp_step_name(s) == name) return s;
  }
  return std::nullopt;
}

struct InjectedFault {
  SmtpStep step = SmtpStep::kRcpt;
  smtp::Reply reply;
  int skip = 0;   // let this many matching steps pass first
  int times = 1;  // then answer this many with `reply` (-1: forever)
};

class FaultInjector : public PolicyHook {
 public:
  explicit FaultInjector(std::vector<InjectedFault> faults) : faults_(std::move(faults)) {}

  std::optional<smtp::Reply> on_connect(const smtp::SessionState&) override { return fire(SmtpStep::kConnect); }
  std::optional<smtp::Reply> on_mail(const smtp::SessionState&, const smtp::Command&) override {
    return fire(SmtpStep::kMail);
  }
  std::optional<smtp::Reply> on_rcpt(const smtp::SessionState&, const smtp::Envelope&, const smtp::Command&) override {
    return fire(SmtpStep::kRcpt);
  }
  std::optional<smtp::Reply> on_data_end(const smtp::SessionState&, const smtp::Envelope&, std::string_view) override {
    return fire(SmtpStep::kDataEnd);
  }

 private:
  std::optional<smtp::Reply> fire(SmtpStep step) {
    for (auto& f : faults_) {
      if (f.step != step) continue;
      if (f.skip > 0) {
        --f.skip;
        continue;
      }
      if (f.times == 0) continue;
      if (f.times > 0) --f.times;
      return f.reply;
    }
    return std::nullopt;
  }
  std::vector<InjectedFault> faults_;
};

}  // namespace smtplab::agents
