#include "cli/stepper.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <span>

#include "absl/strings/str_cat.h"
#include "cli/scenario_cli.hpp"
#include "scenarios/explanations.hpp"
#include "sim/trace/trace.hpp"

namespace smtplab::cli {
namespace {

std::string reply_colored(const sim::TraceEvent& e, const Style& style) {
  const std::string line = absl::StrCat("S: ", e.text);
  if (e.code >= 500) return style.red(line);
  if (e.code >= 400) return style.yellow(line);
  if (e.code >= 300) return style.cyan(line);
  return style.green(line);
}

// Raw single-key input for the interactive stepper; restores the terminal.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  int key() {
    unsigned char c = 0;
    return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
  }

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

std::string format_event_line(const sim::TraceEvent& e, const Style& style) {
  const std::string time = style.dim(absl::StrCat("[", format_virtual_time(e.time_us), "]"));
  const sim::EventKind k = e.kind;
  using K = sim::EventKind;
  std::string who, what;
  if (k == sim::EventKind::kSmtpCommand) {
    who = absl::StrCat(e.peer, " -> ", e.host);
    what = style.cyan(absl::StrCat("C: ", e.text));
  } else if (k == sim::EventKind::kSmtpReply) {
    who = absl::StrCat(e.host, " -> ", e.peer);
    what = reply_colored(e, style);
  } else if (k == sim::EventKind::kSmtpData) {
    who = absl::StrCat(e.peer, " -> ", e.host);
    what = style.cyan(absl::StrCat("C: ", e.text));
  } else if (k == K::kDnsQuery || k == K::kDnsAnswer) {
    who = e.host;
    what = absl::StrCat(k == sim::EventKind::kDnsQuery ? "DNS? " : "DNS: ", e.text);
  } else if (k == K::kConnOpen || k == K::kConnClose || k == K::kConnReset || k == K::kConnRefused ||
             k == K::kConnTimeout) {
    who = e.host + (e.peer.empty() ? "" : " -> " + e.peer);
    what = style.dim(absl::StrCat(absl::string_view(name_of(k)).substr(5), ": ", e.text));  // "open: ..."
  } else if (sim::is_message_level(e)) {
    who = e.host;
    const bool bad = k == K::kQueueBounce || k == K::kQueueExpire || k == K::kMessageDsn || k == K::kMessageRejected ||
                     k == K::kHostDown || k == K::kQueueSpoolError;
    const bool warn = k == K::kQueueDefer || k == K::kQueueHopFailed || k == K::kQueueWait || k == K::kQueueRfc1047;
    const std::string line = absl::StrCat(name_of(k), ": ", e.text);
    what = style.bold(bad ? style.red(line) : warn ? style.yellow(line) : style.magenta(line));
  } else {
    who = e.host;
    what = absl::StrCat(name_of(k), ": ", e.text);
  }
  return absl::StrCat(time, " ", who, "\n    ", what);
}

void run_stepper(const std::vector<sim::TraceEvent>& all, const Style& style, const StepperOptions& options) {
  // A multi-line reply (EHLO's "250-..." lines) is one step, not ten.
  struct Step {
    std::size_t first, last;
  };
  std::vector<Step> steps;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::size_t j = i;
    while (all[j].kind == sim::EventKind::kSmtpReply && all[j].text.size() > 3 && all[j].text[3] == '-' && j + 1 < all.size() &&
           all[j + 1].kind == sim::EventKind::kSmtpReply && all[j + 1].connection == all[i].connection) {
      ++j;
    }
    steps.push_back({i, j});
    i = j;
  }
  std::set<std::string> explained;
  auto show = [&](std::size_t k, bool always_explain) {
    const Step& step = steps[k];
    std::printf("%s\n", format_event_line(all[step.first], style).c_str());
    for (std::size_t i = step.first + 1; i <= step.last; ++i) {
      std::printf("    %s\n", reply_colored(all[i], style).c_str());
    }
    const sim::TraceEvent& last = all[step.last];
    const std::string why = scenarios::explain_reply_lines(
        std::span<const sim::TraceEvent>(all).subspan(step.first, step.last - step.first + 1));
    // In a pipe each reply code is explained once for each thing it answers
    // (its enhanced code and text vary; the meaning does not), everything
    // else once per text.
    const std::string* answers = last.detail(sim::detail_key::kAnswers);
    const std::string key = last.kind == sim::EventKind::kSmtpReply && last.code != 451 && last.code != 554
                                ? absl::StrCat("reply.", last.code, ".", answers == nullptr ? "" : *answers)
                                : why;
    if (!why.empty() && (always_explain || explained.insert(key).second)) {
      std::printf("%s", style.dim(wrap_paragraph(why, "      ")).c_str());
    }
  };
  auto message_level = [&](std::size_t k) {
    const sim::TraceEvent& e = all[steps[k].first];
    return sim::is_message_level(e);
  };
  const std::size_t count = steps.size();
  if (!options.interactive) {
    for (std::size_t k = 0; k < count; ++k) show(k, options.explain_every_time);
    return;
  }
  std::printf("%s\n\n", style.dim("Enter: next event   n: next message-level event   b: back   c: continue to the end   "
                                  "q: quit")
                            .c_str());
  RawTerminal terminal;
  std::size_t i = 0;
  if (count > 0) show(0, true);
  while (i + 1 <= count) {
    const int key = terminal.key();
    if (key < 0 || key == 'q') {
      std::printf("%s\n", style.dim(absl::StrCat("  (stopped at step ", i + 1, " of ", count,
                                                 "; the summary below is of the whole run)")).c_str());
      break;
    }
    if (key == 'b') {
      if (i == 0) continue;
      --i;
      std::printf("%s\n", style.dim("  (back)").c_str());
      show(i, true);
    } else if (key == 'c') {
      for (++i; i < count; ++i) show(i, false);
      break;
    } else if (key == 'n') {
      std::size_t j = i + 1;
      while (j < count && !message_level(j)) ++j;
      if (j >= count) break;
      // Show what was skipped in one line each, so nothing is hidden.
      for (std::size_t k = i + 1; k < j; ++k) std::printf("%s\n", style.dim(format_event_line(all[steps[k].first], Style(false))).c_str());
      i = j;
      show(i, true);
    } else if (key == '\n' || key == '\r' || key == ' ') {
      if (i + 1 >= count) break;
      show(++i, true);
    }
  }
  std::fflush(stdout);
}

}  // namespace smtplab::cli
