#include "conformance/testing/broken_server.hpp"

#include <deque>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace smtplab::conformance::testing {
namespace {

// The session's output as whole replies, each with its CRLF lines ("250-a\r\n
// 250 b\r\n"). Our engine writes only complete, well-formed replies.
std::vector<std::string> split_replies(const std::string& out) {
  std::vector<std::string> replies;
  std::string current;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find("\r\n", start);
    if (end == std::string::npos) end = out.size() - 2;
    const std::string line = out.substr(start, end + 2 - start);
    current += line;
    if (line.size() < 4 || line[3] != '-') {
      replies.push_back(std::move(current));
      current.clear();
    }
    start = end + 2;
  }
  if (!current.empty()) replies.push_back(std::move(current));
  return replies;
}

std::string first_word_upper(std::string_view line) {
  return absl::AsciiStrToUpper(std::string(line.substr(0, line.find(' '))));
}

// The base: passes everything through unchanged.
class PassThrough : public agents::SessionTap {
 public:
  std::string on_input(smtp::ServerSession&, std::string_view bytes) override { return std::string(bytes); }
  std::string on_output(smtp::ServerSession&, std::string bytes) override { return bytes; }
  void after_tls(smtp::ServerSession&) override {}
};

class BrokenMultiline : public PassThrough {
 public:
  std::string on_output(smtp::ServerSession&, std::string bytes) override {
    // "250-x" becomes "250 x": each line now reads as a whole reply.
    for (std::size_t at = 0; at + 3 < bytes.size();) {
      if (bytes[at + 3] == '-') bytes[at + 3] = ' ';
      const std::size_t end = bytes.find("\r\n", at);
      if (end == std::string::npos) break;
      at = end + 2;
    }
    return bytes;
  }
};

class ReversePipelinedReplies : public PassThrough {
 public:
  std::string on_output(smtp::ServerSession&, std::string bytes) override {
    const std::vector<std::string> replies = split_replies(bytes);
    std::string out;
    for (auto it = replies.rbegin(); it != replies.rend(); ++it) out += *it;
    return out;
  }
};

class AcceptUnknownCommands : public PassThrough {
 public:
  std::string on_output(smtp::ServerSession&, std::string bytes) override {
    std::string out;
    for (const std::string& reply : split_replies(bytes)) {
      out += absl::StartsWith(reply, "500 5.5.1 Command unrecognized") ? "250 2.0.0 Ok\r\n" : reply;
    }
    return out;
  }
};

class StartTlsInsideTls : public PassThrough {
 public:
  std::string on_output(smtp::ServerSession&, std::string bytes) override {
    if (!in_tls_) return bytes;
    std::string out;
    for (const std::string& reply : split_replies(bytes)) {
      // A multi-line 250 is the EHLO reply: list STARTTLS in it again.
      if (absl::StartsWith(reply, "250-")) {
        const std::size_t first_line_end = reply.find("\r\n") + 2;
        out += reply.substr(0, first_line_end) + "250-STARTTLS\r\n" + reply.substr(first_line_end);
      } else {
        out += reply;
      }
    }
    return out;
  }
  void after_tls(smtp::ServerSession&) override { in_tls_ = true; }

 private:
  bool in_tls_ = false;
};

class KeepEhloAfterTls : public PassThrough {
 public:
  std::string on_input(smtp::ServerSession&, std::string_view bytes) override {
    if (!in_tls_) {
      for (std::size_t at = 0; at < bytes.size();) {
        std::size_t end = bytes.find("\r\n", at);
        if (end == std::string_view::npos) break;
        const std::string_view line = bytes.substr(at, end - at);
        const std::string verb = first_word_upper(line);
        if (verb == "EHLO" || verb == "HELO") ehlo_ = std::string(line);
        at = end + 2;
      }
    }
    return std::string(bytes);
  }
  void after_tls(smtp::ServerSession& session) override {
    in_tls_ = true;
    if (ehlo_.empty()) return;
    // The session is told the plaintext EHLO again; its reply never goes out.
    session.receive(ehlo_ + "\r\n");
    session.take_output();
  }

 private:
  bool in_tls_ = false;
  std::string ehlo_;
};

class KeepInputAfterStartTls : public PassThrough {
 public:
  std::string on_input(smtp::ServerSession&, std::string_view bytes) override {
    if (!in_tls_) {
      const std::string upper = absl::AsciiStrToUpper(std::string(bytes));
      if (const std::size_t at = upper.find("STARTTLS\r\n"); at != std::string::npos) {
        kept_ = std::string(bytes.substr(at + 10));  // the engine drops these; we do not
      }
    }
    return std::string(bytes);
  }
  void after_tls(smtp::ServerSession& session) override {
    in_tls_ = true;
    // They now run as if they had come inside TLS: CVE-2011-0411.
    if (!kept_.empty()) session.receive(kept_);
    kept_.clear();
  }

 private:
  bool in_tls_ = false;
  std::string kept_;
};

// Ends the line at a bare LF, as the sink did before it was fixed: "NOOP<LF>"
// becomes a refused line of its own (the engine sees "NOOP<LF><CR><LF>") and
// the text after the LF reaches the engine as the next command. Command
// lines only: message text passes unchanged.
class SplitCommandAtBareLf : public PassThrough {
 public:
  std::string on_input(smtp::ServerSession& session, std::string_view bytes) override {
    if (!session.reading_commands()) return std::string(bytes);
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      out += bytes[i];
      const bool after_cr = i > 0 ? bytes[i - 1] == '\r' : last_was_cr_;
      if (bytes[i] == '\n' && !after_cr) out += "\r\n";
    }
    if (!bytes.empty()) last_was_cr_ = bytes.back() == '\r';
    return out;
  }

 private:
  bool last_was_cr_ = false;
};

// Accepts RCPT without MAIL and DATA without RCPT by slipping the missing
// command in before the client's and dropping its reply.
class SkipSequenceChecks : public PassThrough {
 public:
  std::string on_input(smtp::ServerSession&, std::string_view bytes) override {
    pending_.append(bytes);
    std::string out;
    while (!pending_.empty()) {
      if (text_) {
        // Message text after DATA, up to and with the line with the dot.
        const std::size_t end = (tail_ + pending_).find("\r\n.\r\n");
        if (end == std::string::npos) {
          out += pending_;
          tail_ = (tail_ + pending_).substr(std::max<std::size_t>((tail_ + pending_).size(), 4) - 4);
          pending_.clear();
          break;
        }
        const std::size_t take = end + 5 - tail_.size();
        out += pending_.substr(0, take);
        pending_.erase(0, take);
        tail_ = "\r\n";
        text_ = false;
        mail_ = rcpt_ = false;
        replies_.push_back(false);
        continue;
      }
      if (chunk_left_ > 0) {
        const std::size_t take = std::min<std::size_t>(chunk_left_, pending_.size());
        out += pending_.substr(0, take);
        pending_.erase(0, take);
        chunk_left_ -= take;
        continue;
      }
      const std::size_t end = pending_.find("\r\n");
      if (end == std::string::npos) break;
      const std::string line = pending_.substr(0, end);
      pending_.erase(0, end + 2);
      const std::string verb = first_word_upper(line);
      if (verb == "EHLO" || verb == "HELO" || verb == "RSET") {
        mail_ = rcpt_ = false;
      } else if (verb == "MAIL") {
        mail_ = true;
        rcpt_ = false;
      } else if (verb == "RCPT") {
        if (!mail_) inject(out, "MAIL FROM:<>");
        mail_ = rcpt_ = true;
      } else if (verb == "DATA") {
        if (!mail_) inject(out, "MAIL FROM:<>");
        if (!rcpt_) inject(out, "RCPT TO:<postmaster>");
        text_ = true;
        tail_ = "\r\n";  // the DATA line's own CRLF: a dot line may come at once
      } else if (verb == "BDAT") {
        std::uint64_t size = 0;
        const std::string_view args = std::string_view(line).substr(std::min(line.size(), line.find(' ') + 1));
        if (absl::SimpleAtoi(std::string(args.substr(0, args.find(' '))), &size)) chunk_left_ = size;
      }
      out += line + "\r\n";
      replies_.push_back(false);
    }
    return out;
  }
  void after_tls(smtp::ServerSession&) override { mail_ = rcpt_ = false; }  // RFC 3207 4.2
  std::string on_output(smtp::ServerSession&, std::string bytes) override {
    std::string out;
    for (std::string& reply : split_replies(bytes)) {
      // The greeting comes before any command: nothing to match it with.
      const bool injected = !replies_.empty() && replies_.front();
      if (!replies_.empty()) replies_.pop_front();
      if (!injected) out += reply;
    }
    return out;
  }

 private:
  void inject(std::string& out, const char* command) {
    out += std::string(command) + "\r\n";
    replies_.push_back(true);
  }

  std::string pending_;         // input not yet a whole line
  bool mail_ = false, rcpt_ = false;
  bool text_ = false;           // inside DATA's text
  std::string tail_;            // the last octets of text, to find <CRLF>.<CRLF> across reads
  std::uint64_t chunk_left_ = 0;  // BDAT octets still to pass
  std::deque<bool> replies_;    // per command passed, in order: was it ours?
};

}  // namespace

std::function<std::unique_ptr<agents::SessionTap>()> tap_for(Defect defect) {
  return [defect]() -> std::unique_ptr<agents::SessionTap> {
    switch (defect) {
      case Defect::kSkipSequenceChecks: return std::make_unique<SkipSequenceChecks>();
      case Defect::kBrokenMultiline: return std::make_unique<BrokenMultiline>();
      case Defect::kKeepInputAfterStartTls: return std::make_unique<KeepInputAfterStartTls>();
      case Defect::kReversePipelinedReplies: return std::make_unique<ReversePipelinedReplies>();
      case Defect::kAcceptUnknownCommands: return std::make_unique<AcceptUnknownCommands>();
      case Defect::kStartTlsInsideTls: return std::make_unique<StartTlsInsideTls>();
      case Defect::kKeepEhloAfterTls: return std::make_unique<KeepEhloAfterTls>();
      case Defect::kSplitCommandAtBareLf: return std::make_unique<SplitCommandAtBareLf>();
    }
    return nullptr;
  };
}

}  // namespace smtplab::conformance::testing
