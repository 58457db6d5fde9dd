#include "cli/transcript_printer.hpp"

#include "absl/strings/str_cat.h"
#include "base/absl_string_view.hpp"

namespace smtplab::cli {
namespace {

std::mutex& output_mutex() {
  static std::mutex m;
  return m;
}

// Message lines beyond this are summarised, so a 10 MiB body stays readable.
constexpr int kMaxMessageLines = 20;

}  // namespace

TranscriptPrinter::TranscriptPrinter(std::FILE* out, std::string prefix, bool show_message_text)
    : out_(out), prefix_(std::move(prefix)), show_message_text_(show_message_text) {}

void TranscriptPrinter::line(std::string_view tag, std::string_view text) {
  // Control characters would corrupt the terminal; show them escaped, and
  // leave UTF-8 alone so 8-bit text reads as text.
  std::string shown;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      absl::StrAppend(&shown, "\\x", absl::Hex(c, absl::kZeroPad2));
    } else {
      shown += static_cast<char>(c);
    }
  }
  std::lock_guard<std::mutex> lock(output_mutex());
  std::fprintf(out_, "%s%.*s %s\n", prefix_.c_str(), static_cast<int>(tag.size()), tag.data(), shown.c_str());
  std::fflush(out_);
}

void TranscriptPrinter::on_event(const smtp::SessionEvent& e) {
  using K = smtp::SessionEventKind;
  switch (e.kind) {
    case K::kCommandReceived:
      // "C:|": read in the same write as the command before it, before that
      // one's reply had gone out (PIPELINING, RFC 2920 3.1).
      line(e.pipelined ? "C:|" : "C:", e.text);
      break;
    case K::kCommandSent:
      line("C:", e.text);
      break;
    case K::kReplySent:
    case K::kReplyReceived:
      line("S:", e.text);
      break;
    case K::kMessageReceived:
    case K::kMessageSent: {
      if (show_message_text_) {
        std::string_view rest = e.text;
        int shown = 0;
        while (!rest.empty() && shown < kMaxMessageLines) {
          const auto eol = rest.find("\r\n");
          const std::string_view text = rest.substr(0, eol);
          // Show the line as it crossed the wire: DATA doubles a leading dot.
          line("C:", e.dot_stuffed && !text.empty() && text[0] == '.' ? absl::StrCat(".", av(text)) : std::string(text));
          rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 2);
          ++shown;
        }
        if (!rest.empty()) line("C:", absl::StrCat("[... ", rest.size(), " more octets of message text]"));
        if (e.dot_stuffed) line("C:", ".");
      }
      line("  ", absl::StrCat("(message text: ", e.octets, " octets", e.dot_stuffed ? ", then the end-of-data line \".\")" : ", sent as one BDAT chunk)"));
      break;
    }
    case K::kTlsRequested:
      line("**", "STARTTLS accepted: TLS handshake starts here");
      break;
    case K::kInputDiscarded:
      line("**", absl::StrCat("discarded ", e.octets, " octets: ", av(e.text)));
      break;
    case K::kProtocolError:
      line("!!", e.text);
      break;
    case K::kClosing:
      line("**", "closing connection");
      break;
  }
}

}  // namespace smtplab::cli
