// The git-style subcommands of `smtplab`. Each lives in its own file with its
// own flags; main.cpp only dispatches.
#pragma once

#include <string_view>
#include <vector>

namespace smtplab::cli {

struct Subcommand {
  std::string_view name;
  std::string_view summary;
  // Its flags, space-separated in the order a person reads them, each with
  // what its value looks like ("seed=N"; a switch has none): what
  // `smtplab NAME --help` lists and all it accepts (subcommand_flags.cpp).
  std::string_view flags;
  int (*run)(std::vector<char*> args);  // args[0] is "smtplab NAME"
};

int run_sink(std::vector<char*> args);
int run_send(std::vector<char*> args);
int run_demo(std::vector<char*> args);
int run_run(std::vector<char*> args);
int run_step(std::vector<char*> args);
int run_validate(std::vector<char*> args);
int run_list(std::vector<char*> args);
int run_explain(std::vector<char*> args);
int run_conform(std::vector<char*> args);
int run_cert(std::vector<char*> args);
int run_serve(std::vector<char*> args);

// Parses one subcommand's flags and returns the positional arguments. --help
// prints `usage` and the command's own flags and exits 0; a flag that is not
// the command's is refused (exit 2) with the list of those that are.
std::vector<char*> parse_subcommand_flags(const Subcommand& command, std::vector<char*>& args,
                                          std::string_view usage);
const Subcommand* find_subcommand(std::string_view name);

}  // namespace smtplab::cli
