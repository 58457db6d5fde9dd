#include "sim/trace/trace_kinds.hpp"

#include <ostream>

namespace smtplab::sim {

std::optional<EventKind> event_kind_named(std::string_view name) {
  // Forty-odd names, read only when a trace file or a scenario is loaded.
  for (const EventKindInfo& k : kEventKinds) {
    if (std::string_view(k.name) == name) return k.kind;
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, EventKind kind) { return out << name_of(kind); }

}  // namespace smtplab::sim
