// A queue store in memory whose writes and removals fail on demand, as a
// full or read-only disk would make them: for tests of what an MTA does
// when its spool fails.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agents/mta/queue_store.hpp"

namespace smtplab::agents::testing {

// A spool in memory whose writes and removals fail on demand, as a full or
// read-only disk would make them.
class FailingQueueStore : public QueueStore {
 public:
  bool fail_saves = false;          // every save fails
  int fail_next_saves = 0;          // this many saves fail, then they work
  bool fail_bounce_saves = false;   // saves of bounces (null sender) fail
  int fail_removes = 0;             // this many removals fail, then they work

  absl::Status save(const QueuedMessage& m, absl::Time arrival) override {
    if (fail_next_saves > 0) {
      --fail_next_saves;
      return absl::ResourceExhaustedError("No space left on device");
    }
    if (fail_saves || (fail_bounce_saves && m.is_bounce)) return absl::ResourceExhaustedError("No space left on device");
    files[m.id] = Loaded{m, arrival};
    return absl::OkStatus();
  }
  absl::Status remove(const std::string& id) override {
    if (fail_removes > 0) {
      --fail_removes;
      return absl::PermissionDeniedError("Read-only file system");
    }
    files.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Loaded>> load() override {
    std::vector<Loaded> out;
    for (const auto& [id, f] : files) out.push_back(f);
    return out;
  }

  std::map<std::string, Loaded> files;
};

}  // namespace smtplab::agents::testing
