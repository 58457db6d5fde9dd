// Which trace events explain which packet, and the comment each becomes, so
// that Wireshark's packet comments read like `smtplab step`.
//
// A network tells the wire log of a packet at the moment it happens, and the
// log notes how many trace events had been recorded by then (its mark). What
// the server records on reading (a command, the end of the data, a protocol
// error, a finished handshake) comes after the bytes that carried it, so it
// explains the last packet of its connection marked before it. A reply is
// recorded before it is written, so it explains the first packet the server
// sends on that connection marked at or after it. This holds under TLS too:
// the command explains the record that completed it.
#pragma once

#include <string>
#include <vector>

#include "capture/wire_log.hpp"
#include "sim/trace/trace_event.hpp"

namespace smtplab::capture {

// For each record of `records`, the events of `events` (in trace order) that
// explain it; most records have none.
std::vector<std::vector<const sim::TraceEvent*>> explaining_events(const std::vector<WireRecord>& records,
                                                                   const std::vector<sim::TraceEvent>& events);

// "[command.mail] C: MAIL FROM:<a@example.org> | MAIL starts a transaction...
// (RFC 5321 4.1.1.2)": the explanation key, the line, and the first sentence
// of the explanation the stepper shows, with its RFC. Valid UTF-8.
std::string packet_comment(const sim::TraceEvent& event);

}  // namespace smtplab::capture
