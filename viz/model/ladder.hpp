// The conversation as a ladder (sequence) diagram, the way textbooks draw
// SMTP and Wireshark's flow graph draws a capture: a lane per host, time
// flowing down, an arrow per command and per reply. Built from the trace
// alone; smtplab-viz draws it (app/ladder_view.cpp) and `smtplab step
// --ladder` prints it (ladder_text.hpp).
//
// Rows follow the wire, not the trace's order: a pipelined batch's commands
// (RFC 2920) come first, as the one write they were, then the replies; a
// multi-line reply (RFC 5321 4.2.1) is one arrow. Time that passes with
// nothing on the wire (a greylisting wait, a retry, a connect timing out)
// is a gap row with its length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/trace/trace_event.hpp"

namespace smtplab::viz {

struct LadderLane {
  std::string host;
  std::string agent;  // "mua", "msa", "mta", "mda"; empty for a client from outside the world
};

enum class LadderRowKind {
  kConnect,        // TCP connection opened, client -> server
  kConnectFailed,  // refused or timed out: an arrow that never arrives
  kCommand,        // a command line, client -> server
  kReply,          // a whole reply (all its lines), server -> client
  kData,           // the message text after 354, ended by the lone dot
  kTls,            // the TLS handshake, both ways (or its failure)
  kClose,          // the connection closed or reset
  kNote,           // what a host did on its own: queued, deferred, delivered
  kGap,            // time passed with nothing on the wire
};

struct LadderRow {
  LadderRowKind kind = LadderRowKind::kNote;
  std::size_t event = 0;  // index of the trace event shown; a gap: of the row after it
  std::size_t last_event = 0;  // the last event the row stands for (a multi-line reply's last line)
  std::int64_t time_us = 0;
  int from = 0, to = 0;   // lanes; a note has from == to
  std::string label;      // the line on the wire, or what happened
  std::vector<std::string> more;  // a multi-line reply's further lines
  std::uint64_t connection = 0;
  bool encrypted = false;  // sent inside TLS
  // The commands one write carried share a batch number (> 0).
  int batch = 0;
  std::int64_t gap_us = 0;  // a gap's length
};

struct Ladder {
  std::string title;
  std::vector<LadderLane> lanes;
  std::vector<LadderRow> rows;
};

// Pauses at least this long are drawn as gaps; shorter ones are the link's
// latency and the hosts' thinking time.
inline constexpr std::int64_t kLadderGapUs = 1'000'000;

// Which connections carried which message, found in one pass over a trace,
// so that the viz can ask at every step without scanning the run again.
// It reads the trace it was built from: valid while that vector is unchanged.
class LadderIndex {
 public:
  explicit LadderIndex(const std::vector<sim::TraceEvent>& events);

  // One connection's conversation.
  Ladder connection_ladder(std::uint64_t connection) const;
  // Every connection that carried the message (a reused connection from the
  // attempt on, to the next message's), with what each host did with it
  // and the waits between.
  Ladder message_ladder(std::string_view message) const;
  // The run's messages in order of first appearance.
  const std::vector<std::string>& messages() const { return messages_; }
  // Connections that carried none of them (an outside client's, a refused
  // relay), in order.
  std::vector<std::uint64_t> connections_without_message() const;
  // The message an event is about: its own, or the one whose part of a
  // connection it is in.
  std::optional<std::string> message_of_event(std::size_t index) const;

  struct ConnectionEnds {
    std::size_t first = 0;  // index of its first event
    std::string client, server;
  };

 private:
  // Where on a connection one message's part lies: [from, until) in the trace.
  struct Span {
    std::size_t from = 0;
    std::size_t until = std::numeric_limits<std::size_t>::max();
  };

  const std::vector<sim::TraceEvent>* events_;
  std::map<std::uint64_t, ConnectionEnds> ends_;
  std::map<std::uint64_t, std::vector<std::size_t>> connection_events_;
  std::vector<std::string> messages_;
  std::map<std::string, std::vector<std::size_t>> message_notes_;       // message -> its note events
  std::map<std::string, std::map<std::uint64_t, Span>> spans_;          // message -> connection -> part
  std::map<std::uint64_t, std::vector<std::pair<Span, std::string>>> by_connection_;
};

// The same, for one question (each builds an index).
Ladder connection_ladder(const std::vector<sim::TraceEvent>& events, std::uint64_t connection);
Ladder message_ladder(const std::vector<sim::TraceEvent>& events, std::string_view message);
std::vector<std::string> messages_in(const std::vector<sim::TraceEvent>& events);
std::vector<std::uint64_t> connections_without_message(const std::vector<sim::TraceEvent>& events);
std::optional<std::string> message_of_event(const std::vector<sim::TraceEvent>& events, std::size_t index);

}  // namespace smtplab::viz
