// A conformance check: an id, the requirement it tests (RFC section and
// level), and a procedure that talks to the server through a Probe and
// returns a verdict. The registry (checks.cpp) holds them all.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "conformance/probe.hpp"

namespace smtplab::conformance {

enum class Level { kMust, kShould, kMay };
enum class Outcome { kPass, kFail, kWarn, kSkip };
std::string_view level_name(Level level);
std::string_view outcome_name(Outcome outcome);

struct Verdict {
  Outcome outcome = Outcome::kPass;
  std::string message;  // what was seen, in one sentence
};
inline Verdict pass(std::string m = {}) { return {Outcome::kPass, std::move(m)}; }
inline Verdict fail(std::string m) { return {Outcome::kFail, std::move(m)}; }
inline Verdict warn(std::string m) { return {Outcome::kWarn, std::move(m)}; }
inline Verdict skip(std::string m) { return {Outcome::kSkip, std::move(m)}; }

enum class Profile { kMx, kSubmission, kSink };

struct Target {
  std::string host;
  int port = 25;
  Profile profile = Profile::kMx;
  std::chrono::milliseconds timeout{5000};
  std::string from = "conformance@smtplab.example";
  // A recipient the owner chose: only then is a transaction completed.
  std::string deliver_to;
  std::optional<std::pair<std::string, std::string>> auth;  // user, password
  bool slow = false;  // run checks that wait for the server's own timeouts
  // --starttls / --tls: every check runs inside TLS. The TLS checks upgrade
  // with STARTTLS themselves whatever the mode; without a context the
  // runner makes one that trusts the system's CAs.
  ProbeTls tls;
};

struct Check {
  std::string id;     // "seq.rcpt_before_mail"
  std::string group;  // "Sequencing"
  std::string title;
  std::string reference;  // "RFC 5321 4.1.4"
  Level level = Level::kMust;
  std::function<Verdict(const Target&, Probe&)> run;
};

const std::vector<Check>& all_checks();

}  // namespace smtplab::conformance
