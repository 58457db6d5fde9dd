// Prints a session's events as a transcript, one line each: "C:" for what
// the client sent, "S:" for what the server sent, like swaks and Postfix's
// debug logs; on the server's side "C:|" for a command pipelined behind the
// one before it. Thread-safe: lines from concurrent connections never mix.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "agents/smtp/session_event.hpp"

namespace smtplab::cli {

class TranscriptPrinter : public smtp::SessionObserver {
 public:
  // `prefix` starts each line (e.g. "[3] " for connection 3).
  TranscriptPrinter(std::FILE* out, std::string prefix, bool show_message_text);
  void on_event(const smtp::SessionEvent& event) override;

 private:
  void line(std::string_view tag, std::string_view text);
  std::FILE* out_;
  std::string prefix_;
  bool show_message_text_;
};

}  // namespace smtplab::cli
