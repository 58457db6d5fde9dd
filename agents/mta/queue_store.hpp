// Where an MTA keeps its queue so that a 250 is a promise (RFC 5321 6.1):
// a SpoolDirectory writes each message to its own file and fsyncs it before
// the reply, and on restart the MTA reads the spool and carries on. In the
// simulator the queue lives in memory and no store is needed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agents/mta/mail_queue.hpp"

namespace smtplab::agents {

class QueueStore {
 public:
  virtual ~QueueStore() = default;
  // Makes the message (and where its recipients stand) durable.
  virtual absl::Status save(const QueuedMessage& message, absl::Time arrival_wall_time) = 0;
  virtual absl::Status remove(const std::string& queue_id) = 0;
  // Every message in the store, with its arrival as wall-clock time.
  struct Loaded {
    QueuedMessage message;
    absl::Time arrival;
  };
  virtual absl::StatusOr<std::vector<Loaded>> load() = 0;
};

// One file per message in a directory (like Postfix's queue files): a JSON
// line of envelope and state, then the message. Written to a temporary name,
// fsynced, renamed into place, and the directory fsynced.
class SpoolDirectory : public QueueStore {
 public:
  static absl::StatusOr<std::unique_ptr<SpoolDirectory>> open(std::string directory, bool fsync = true);

  absl::Status save(const QueuedMessage& message, absl::Time arrival_wall_time) override;
  absl::Status remove(const std::string& queue_id) override;
  absl::StatusOr<std::vector<Loaded>> load() override;

 private:
  SpoolDirectory(std::string directory, bool fsync) : directory_(std::move(directory)), fsync_(fsync) {}
  std::string directory_;
  bool fsync_;
};

}  // namespace smtplab::agents
