// Fuzz target: arbitrary bytes as a scenario file. The loader and its YAML
// diagnosis must never crash or hang, and every error must name a place in
// the text (a line from 1 to the number of lines, or 0 for the whole file).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "scenarios/scenario_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace smtplab::scenarios;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const LoadResult r = load_scenario_text(text, "fuzz.yaml");
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (const auto& e : r.errors) {
    if (e.where.line < 0 || e.where.line > lines || e.message.empty()) std::abort();
  }
  if (r.ok() == !r.errors.empty()) std::abort();
  return 0;
}
