// Fuzz target: any line through the command parser, then format and re-parse:
// a command that parsed must format into a line that parses the same way.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agents/smtp/command.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::smtp;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  for (bool utf8 : {false, true}) {
    CommandParse parsed = parse_command(line, {.allow_utf8 = utf8});
    if (!parsed.ok() || parsed.command.verb == Verb::kUnknown) continue;
    if (parsed.command.verb == Verb::kHelp || parsed.command.verb == Verb::kNoop ||
        parsed.command.verb == Verb::kVrfy || parsed.command.verb == Verb::kExpn ||
        parsed.command.verb == Verb::kObsolete) {
      continue;  // free-text arguments are echoed, not normalised
    }
    std::string wire = format_command(parsed.command);
    wire.resize(wire.size() - 2);
    CommandParse again = parse_command(wire, {.allow_utf8 = utf8});
    if (!again.ok() || format_command(again.command) != format_command(parsed.command)) std::abort();
  }
  return 0;
}
