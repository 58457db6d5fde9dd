// A subcommand's flags: parsed by abseil, but checked and explained here.
//
// abseil's flags are process-wide, so on its own `smtplab run --listen X`
// would be accepted (--listen is sink's) and `smtplab run --help` would list
// flags by source file, with the build's paths. Each Subcommand therefore
// names its flags in the order a person reads them; --help prints exactly
// those, and a flag that is not among them is refused with the list.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/absl_string_view.hpp"
#include "cli/subcommand.hpp"

namespace smtplab::cli {
namespace {

struct FlagUse {
  std::string name;         // abseil's: "body_file"
  std::string placeholder;  // "FILE"; empty for a switch
};

std::vector<FlagUse> flags_of(const Subcommand& command) {
  std::vector<FlagUse> out;
  for (absl::string_view word : absl::StrSplit(av(command.flags), ' ', absl::SkipEmpty())) {
    const auto eq = word.find('=');
    out.push_back({std::string(word.substr(0, eq)),
                   eq == absl::string_view::npos ? std::string() : std::string(word.substr(eq + 1))});
  }
  return out;
}

// "body_file" -> "--body-file": dashes are what people type (and what swaks
// and the Postfix tools use); abseil's underscores are accepted too.
std::string spelled(std::string_view name) {
  std::string out = absl::StrCat("--", av(name));
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

// Help text wrapped to 78 columns under an indentation of six.
void print_wrapped(std::FILE* out, std::string_view text) {
  constexpr std::size_t kWidth = 78;
  constexpr std::string_view kIndent = "      ";
  std::string line(kIndent);
  for (absl::string_view word : absl::StrSplit(av(text), ' ', absl::SkipEmpty())) {
    if (line.size() > kIndent.size() && line.size() + 1 + word.size() > kWidth) {
      std::fprintf(out, "%s\n", line.c_str());
      line = std::string(kIndent);
    }
    if (line.size() > kIndent.size()) line += ' ';
    line.append(word.data(), word.size());
  }
  if (line.size() > kIndent.size()) std::fprintf(out, "%s\n", line.c_str());
}

void print_command_help(const Subcommand& command, std::string_view usage) {
  std::fprintf(stdout, "usage: %.*s\n", static_cast<int>(usage.size()), usage.data());
  const auto uses = flags_of(command);
  if (uses.empty()) {
    std::fprintf(stdout, "\n(no flags)\n");
    return;
  }
  std::fprintf(stdout, "\nflags:\n");
  for (const auto& use : uses) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(use.name);
    if (flag == nullptr) continue;  // tests/cli/test_cli_help.py fails on a name with no flag
    const std::string help(flag->Help());
    std::string head = absl::StrCat("  ", spelled(use.name));
    if (!use.placeholder.empty()) absl::StrAppend(&head, " ", use.placeholder);
    // A default the help does not already put in words.
    const std::string value = flag->DefaultValue();
    if (!flag->IsOfType<bool>() && !value.empty() && help.find("default") == std::string::npos) {
      absl::StrAppend(&head, "   (default: ", value, ")");
    }
    std::fprintf(stdout, "%s\n", head.c_str());
    print_wrapped(stdout, help);
  }
}

bool is_help(std::string_view arg) {
  return arg == "-h" || arg == "--help" || arg == "-help" || arg == "--helpfull" || arg == "--helpshort" ||
         arg.starts_with("--help=");
}

// The flag an argument names ("--seed=5" -> "seed"), or empty when the
// argument is not a flag.
std::string flag_of(std::string_view arg) {
  if (arg.size() < 2 || arg[0] != '-' || arg == "--") return {};
  arg.remove_prefix(arg[1] == '-' ? 2 : 1);
  if (arg.empty() || !(std::isalpha(static_cast<unsigned char>(arg[0])))) return {};  // "-5" is a value
  std::string name(arg.substr(0, arg.find('=')));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

}  // namespace

std::vector<char*> parse_subcommand_flags(const Subcommand& command, std::vector<char*>& args,
                                          std::string_view usage) {
  const auto uses = flags_of(command);
  auto known = [&](const std::string& name) {
    return std::any_of(uses.begin(), uses.end(), [&](const FlagUse& u) { return u.name == name; });
  };
  std::vector<std::size_t> flag_positions;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") break;
    if (is_help(arg)) {
      print_command_help(command, usage);
      std::exit(0);
    }
    const std::string name = flag_of(arg);
    if (name.empty()) continue;
    const bool negated_bool = name.starts_with("no") && known(name.substr(2)) &&
                              absl::FindCommandLineFlag(name.substr(2))->IsOfType<bool>();
    if (!known(name) && !negated_bool) {
      std::vector<std::string> spelled_names;
      for (const auto& u : uses) spelled_names.push_back(spelled(u.name));
      std::fprintf(stderr, "%s: unknown flag %s; %s (see %s --help)\n", args[0], spelled(name).c_str(),
                   uses.empty() ? "it takes no flags"
                                 : absl::StrCat("its flags are ", absl::StrJoin(spelled_names, " ")).c_str(),
                   args[0]);
      std::exit(2);
    }
    flag_positions.push_back(i);
    // "--seed 5": the next argument is the value, whatever it looks like.
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(negated_bool ? name.substr(2) : name);
    if (arg.find('=') == std::string_view::npos && flag != nullptr && !flag->IsOfType<bool>()) ++i;
  }
  // Accept "--body-file" as well as abseil's "--body_file" (in flag names
  // only: a value such as a file name is left as it is).
  static std::vector<std::string> storage;
  storage.clear();
  storage.reserve(flag_positions.size());
  for (const std::size_t i : flag_positions) {
    std::string a = args[i];
    const std::size_t start = a[1] == '-' ? 2 : 1;
    const auto end = std::min(a.find('='), a.size());
    std::replace(a.begin() + static_cast<std::ptrdiff_t>(start), a.begin() + static_cast<std::ptrdiff_t>(end), '-',
                 '_');
    storage.push_back(std::move(a));
    args[i] = storage.back().data();
  }
  return absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace smtplab::cli
