#include "cli/stepper.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <span>

#include "absl/strings/str_cat.h"
#include "cli/scenario_cli.hpp"
#include "cli/stored_message.hpp"
#include "scenarios/explanations.hpp"
#include "sim/trace/trace.hpp"
#include "sim/time_text.hpp"

namespace smtplab::cli {
namespace {

std::string reply_colored(const sim::TraceEvent& e, const Style& style) {
  const std::string line = absl::StrCat("S: ", e.text);
  if (e.code >= 500) return style.red(line);
  if (e.code >= 400) return style.yellow(line);
  if (e.code >= 300) return style.cyan(line);
  return style.green(line);
}

// The stepper's keys. On a terminal, one key at a time (raw mode, restored
// on exit). From a pipe or a file -- a script, a test, a student pasting
// keys -- one line is one key: its first non-blank character, an empty line
// is Enter. Read byte by byte there, the newline after "b" would count as an
// Enter of its own and undo the step back.
class KeyReader {
 public:
  KeyReader() {
    if (::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 1;
      raw.c_cc[VTIME] = 0;
      raw_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
  }
  ~KeyReader() {
    if (raw_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  KeyReader(const KeyReader&) = delete;
  KeyReader& operator=(const KeyReader&) = delete;

  // The next key, '\n' for Enter; -1 at the end of input.
  int key() {
    if (raw_) return byte();
    int first = -1;
    for (int c = byte(); c != '\n'; c = byte()) {
      if (c < 0) return first;  // a last line without its newline still counts
      if (first < 0 && c != ' ' && c != '\t' && c != '\r') first = c;
    }
    return first < 0 ? '\n' : first;
  }

 private:
  static int byte() {
    unsigned char c = 0;
    return ::read(STDIN_FILENO, &c, 1) == 1 ? c : -1;
  }
  termios saved_{};
  bool raw_ = false;
};

}  // namespace

std::string format_event_line(const sim::TraceEvent& e, const Style& style) {
  const std::string time = style.dim(absl::StrCat("[", sim::clock_text(e.time_us), "]"));
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

namespace {

// Enough of a body to see it is the message; the headers are what a lesson
// is about, and they are always shown whole.
constexpr std::size_t kBodyLinesShown = 8;

bool is_command(const sim::TraceEvent& e) { return e.kind == sim::EventKind::kSmtpCommand; }
bool pipelined(const sim::TraceEvent& e) { return e.detail(sim::detail_key::kPipelined) != nullptr; }

// The commands a client sent in one write with the command at `first`: it,
// then each later command of its connection marked pipelined, until one that
// was not (or until anything but commands and replies happens there).
std::vector<std::size_t> batch_from(const std::vector<sim::TraceEvent>& all, std::size_t first) {
  std::vector<std::size_t> out = {first};
  for (std::size_t j = first + 1; j < all.size(); ++j) {
    const sim::TraceEvent& e = all[j];
    if (e.connection != all[first].connection) continue;
    if (e.kind == sim::EventKind::kSmtpReply) continue;
    if (!is_command(e) || !pipelined(e)) break;
    out.push_back(j);
  }
  return out;
}

}  // namespace

void run_stepper(const std::vector<sim::TraceEvent>& all, const Style& style, const StepperOptions& options) {
  // A step is what a person takes in at once: one event; the lines of one
  // multi-line reply (EHLO's "250-..." lines); or the commands of one
  // pipelined write, shown together as the client sent them, before the
  // replies (the trace records each command when the server handles it, so
  // there they alternate with the replies).
  struct Step {
    std::vector<std::size_t> events;
    bool batch = false;
  };
  std::vector<Step> steps;
  std::vector<bool> shown_in_batch(all.size(), false);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (shown_in_batch[i]) continue;
    if (is_command(all[i]) && !pipelined(all[i])) {
      if (std::vector<std::size_t> batch = batch_from(all, i); batch.size() > 1) {
        for (const std::size_t k : batch) shown_in_batch[k] = true;
        steps.push_back({std::move(batch), true});
        continue;
      }
    }
    Step step{{i}, false};
    std::size_t j = i;
    while (all[j].kind == sim::EventKind::kSmtpReply && all[j].text.size() > 3 && all[j].text[3] == '-' && j + 1 < all.size() &&
           all[j + 1].kind == sim::EventKind::kSmtpReply && all[j + 1].connection == all[i].connection) {
      step.events.push_back(++j);
    }
    steps.push_back(std::move(step));
    i = j;
  }
  std::set<std::string> explained;
  auto show = [&](std::size_t k, bool always_explain) {
    const Step& step = steps[k];
    std::printf("%s\n", format_event_line(all[step.events.front()], style).c_str());
    for (std::size_t n = 1; n < step.events.size(); ++n) {
      const sim::TraceEvent& e = all[step.events[n]];
      const std::string line =
          step.batch ? style.cyan(absl::StrCat("C: ", e.text)) : reply_colored(e, style);
      std::printf("    %s\n", line.c_str());
    }
    std::vector<sim::TraceEvent> lines;
    for (const std::size_t n : step.events) lines.push_back(all[n]);
    const sim::TraceEvent& last = lines.back();
    const std::string why = step.batch ? scenarios::explain_pipelined_batch(lines) : scenarios::explain_reply_lines(lines);
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
    // The lessons ask to read the delivered message (count its Received:
    // lines): here it is, as the mailbox stored it.
    if (last.kind == sim::EventKind::kMailboxDeliver && options.stored_message) {
      if (const std::optional<std::string> stored = options.stored_message(last)) {
        const std::string* user = last.detail(sim::detail_key::kUser);
        std::printf("%s", format_stored_message(absl::StrCat("The message as stored in ", user ? *user : "the user",
                                                             "'s mailbox:"),
                                                *stored, "    ", kBodyLinesShown, style)
                              .c_str());
      }
    }
    // Each command of a batch is still explained, once, as a lone one is.
    if (step.batch) {
      for (const sim::TraceEvent& e : lines) {
        const std::string what = scenarios::explain_event(e);
        if (!what.empty() && (always_explain || explained.insert(what).second)) {
          std::printf("%s", style.dim(wrap_paragraph(what, "      ")).c_str());
        }
      }
    }
  };
  auto message_level = [&](std::size_t k) {
    return sim::is_message_level(all[steps[k].events.front()]);
  };
  const std::size_t count = steps.size();
  if (!options.interactive) {
    for (std::size_t k = 0; k < count; ++k) show(k, options.explain_every_time);
    return;
  }
  std::printf("%s\n\n", style.dim("Enter: next event   n: next message-level event   b: back   c: continue to the end   "
                                  "q: quit")
                            .c_str());
  KeyReader keys;
  std::size_t i = 0;
  if (count > 0) show(0, true);
  while (i + 1 <= count) {
    const int key = keys.key();
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
      if (j >= count) {
        std::printf("%s\n", style.dim("  (no message-level event after this one; Enter steps on, c shows the rest)").c_str());
        continue;
      }
      // Show what was skipped in one line each, so nothing is hidden.
      for (std::size_t k = i + 1; k < j; ++k) {
        for (const std::size_t n : steps[k].events) {
          std::printf("%s\n", style.dim(format_event_line(all[n], Style(false))).c_str());
        }
      }
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
