// Every kind of trace event smtplab records, the detail keys each may carry,
// and the explanation refinements decided at the source: the one place that
// names them. Producers and consumers (the nothing-lost audit, expectations,
// the stepper, the visualizer, explanations) take names from here, so a typo
// is a compile error instead of a silently broken audit.
//
// docs/trace.md describes each kind; scenarios/explanations.cpp explains
// each; scenarios/trace_contract_test.cpp walks this list and checks both,
// and that every kind is produced somewhere and carries only the detail keys
// listed for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string_view>

namespace smtplab::sim {

enum class EventKind : std::uint8_t {
  // The link (sim/inprocess, sim/loopback, the attacker's tap).
  kConnOpen,
  kConnClose,
  kConnReset,
  kConnRefused,
  kConnTimeout,
  kNetPartition,
  kNetHeal,
  kHostDown,
  kHostUp,
  // DNS (sim/dns).
  kDnsQuery,
  kDnsAnswer,
  // SMTP lines, from the server side of each session (agents/session_tracer).
  kSmtpCommand,
  kSmtpReply,
  kSmtpData,
  kSmtpStartTls,
  kSmtpDiscarded,
  kSmtpError,
  // The mail user agent (agents/mua).
  kMessageSubmit,
  kMessageSubmitted,
  kMessageRejected,
  // The queue of an MSA or MTA (agents/mta).
  kQueueEnqueue,
  kQueueAttempt,
  kQueueHopFailed,
  kQueueRelay,
  kQueueDefer,
  kQueueWait,
  kQueueRetry,
  kQueueBounce,
  kQueueExpire,
  kMessageDsn,
  kQueueBounceDropped,
  kQueueRfc1047,
  kQueueDone,
  kQueueRecover,
  kQueueSpoolError,
  // The mail delivery agent (agents/mda).
  kMailboxDeliver,
  // Scenario actions (scenarios/scenario_world).
  kFaultDns,
  kFaultReply,
  // TLS (agents/tls_policy).
  kTlsHandshake,
  kTlsEstablished,
  kTlsFailed,
  kTlsFallback,
  // An attacker on an in-process link (sim/inprocess/starttls_stripper).
  kAttackStrip,
  kAttackRead,
  kAttackBlind,
  // A capture read back (capture/capture_import): what a conforming peer
  // would not have sent, or what the capture cannot show.
  kCaptureFinding,
};

// Detail keys (TraceEvent::details), named once. `char[]` so that they
// convert to the std::string of a details pair without ceremony.
namespace detail_key {
inline constexpr char kAdded[] = "added";            // header lines this hop put on top
inline constexpr char kAddress[] = "address";
inline constexpr char kAnswers[] = "answers";        // what a reply answers (agents/smtp/reply_answers.hpp)
inline constexpr char kAttempt[] = "attempt";
inline constexpr char kBody[] = "body";
inline constexpr char kCipher[] = "cipher";
inline constexpr char kContent[] = "content";        // a bounce's whole text
inline constexpr char kDsnMessageId[] = "dsn_message_id";
inline constexpr char kDsnQueueId[] = "dsn_queue_id";
inline constexpr char kError[] = "error";
inline constexpr char kFailure[] = "failure";        // why a hop failed: not_reached, turned_away, tls_failed
inline constexpr char kFinding[] = "finding";        // what an imported capture shows (capture_finding below)
inline constexpr char kFrom[] = "from";
inline constexpr char kHeaders[] = "headers";
inline constexpr char kId[] = "id";
inline constexpr char kIssuer[] = "issuer";
inline constexpr char kNames[] = "names";
inline constexpr char kNextAttemptUs[] = "next_attempt_us";
inline constexpr char kNextHop[] = "next_hop";
inline constexpr char kNotAfter[] = "not_after";
inline constexpr char kPipelined[] = "pipelined";    // a command sent in one write with the one before it: "yes"
inline constexpr char kOctets[] = "octets";
inline constexpr char kOperation[] = "operation";
inline constexpr char kOrigin[] = "origin";
inline constexpr char kPolicy[] = "policy";
inline constexpr char kPort[] = "port";
inline constexpr char kPurpose[] = "purpose";        // why a DNS query was made (sim::DnsPurpose)
inline constexpr char kQueueId[] = "queue_id";
inline constexpr char kRecipient[] = "recipient";
inline constexpr char kReply[] = "reply";
inline constexpr char kSubject[] = "subject";
inline constexpr char kTo[] = "to";
inline constexpr char kType[] = "type";              // a DNS query's type: MX, A, AAAA, TXT
inline constexpr char kUser[] = "user";
inline constexpr char kVerified[] = "verified";
inline constexpr char kVerifyResult[] = "verify_result";
inline constexpr char kVersion[] = "version";
}  // namespace detail_key

// What the import of a capture finds (kCaptureFinding's `finding`; its
// explanation key is "capture.<finding>").
namespace capture_finding {
inline constexpr char kMidstream[] = "midstream";      // the connection began before the capture did
inline constexpr char kGap[] = "gap";                  // octets the capture lost (`octets` of them)
inline constexpr char kBareLf[] = "bare_lf";           // a line ended by LF alone, or a CR alone (RFC 5321 2.3.8)
inline constexpr char kSmugglingEnd[] = "smuggling_end";  // an end of data that is not CRLF.CRLF (SMTP smuggling)
inline constexpr char kUnadvertisedPipelining[] = "unadvertised_pipelining";  // RFC 2920 without the extension
inline constexpr char kEncrypted[] = "encrypted";      // TLS from here on; without its secrets nothing more is read
inline constexpr char kNotSmtp[] = "not_smtp";         // the server's bytes are not SMTP replies
}  // namespace capture_finding

// A reply's explanation key is "reply.<code>", refined with ".<reason>" where
// the engine or a policy says why it gave it ("reply.451.greylisted"): the
// reasons are named in agents/smtp/reply_reason.hpp, beside smtp::Reply.

struct EventKindInfo {
  EventKind kind;
  // As written in the trace: "queue.defer". A C string, because Debian's
  // abseil takes no std::string_view in StrCat.
  const char* name;
  bool message_level;          // kept at TraceLevel::kMessages
  // The detail keys it may carry, comma-separated; "*" after them: also one
  // key per recipient address (the MUA's per-recipient results).
  std::string_view details;
};

// In the order of the enum (checked below).
inline constexpr EventKindInfo kEventKinds[] = {
    {EventKind::kConnOpen, "conn.open", false, ""},
    {EventKind::kConnClose, "conn.close", false, ""},
    {EventKind::kConnReset, "conn.reset", false, ""},
    {EventKind::kConnRefused, "conn.refused", false, ""},
    {EventKind::kConnTimeout, "conn.timeout", false, ""},
    {EventKind::kNetPartition, "net.partition", false, ""},
    {EventKind::kNetHeal, "net.heal", false, ""},
    {EventKind::kHostDown, "host.down", true, ""},
    {EventKind::kHostUp, "host.up", true, ""},
    {EventKind::kDnsQuery, "dns.query", false, "type,purpose"},
    {EventKind::kDnsAnswer, "dns.answer", false, "type,purpose"},
    {EventKind::kSmtpCommand, "smtp.command", false, "pipelined"},
    {EventKind::kSmtpReply, "smtp.reply", false, "answers"},
    {EventKind::kSmtpData, "smtp.data", false, ""},
    {EventKind::kSmtpStartTls, "smtp.starttls", false, ""},
    {EventKind::kSmtpDiscarded, "smtp.discarded", false, ""},
    {EventKind::kSmtpError, "smtp.error", false, ""},
    {EventKind::kMessageSubmit, "message.submit", true, "from,to,port,policy,user,headers,body"},
    {EventKind::kMessageSubmitted, "message.submitted", true, "*"},
    {EventKind::kMessageRejected, "message.rejected", true, "*"},
    {EventKind::kQueueEnqueue, "queue.enqueue", true, "queue_id,from,to,octets,origin,added,content"},
    {EventKind::kQueueAttempt, "queue.attempt", true, "queue_id,next_hop,address"},
    {EventKind::kQueueHopFailed, "queue.hop_failed", true, "queue_id,next_hop,failure"},
    {EventKind::kQueueRelay, "queue.relay", true, "queue_id,recipient,next_hop,reply"},
    {EventKind::kQueueDefer, "queue.defer", true, "queue_id,recipient,reply"},
    {EventKind::kQueueWait, "queue.wait", true, "queue_id,next_attempt_us,attempt"},
    {EventKind::kQueueRetry, "queue.retry", true, "queue_id,attempt"},
    {EventKind::kQueueBounce, "queue.bounce", true, "queue_id,recipient,reply"},
    {EventKind::kQueueExpire, "queue.expire", true, "queue_id,recipient"},
    {EventKind::kMessageDsn, "message.dsn", true, "queue_id,dsn_queue_id,dsn_message_id"},
    {EventKind::kQueueBounceDropped, "queue.bounce_dropped", true, "queue_id"},
    {EventKind::kQueueRfc1047, "queue.rfc1047", true, "queue_id,next_hop"},
    {EventKind::kQueueDone, "queue.done", true, "queue_id"},
    {EventKind::kQueueRecover, "queue.recover", true, "queue_id"},
    {EventKind::kQueueSpoolError, "queue.spool_error", true, "queue_id,operation,error"},
    {EventKind::kMailboxDeliver, "mailbox.deliver", true, "recipient,user,id,octets,added"},
    {EventKind::kFaultDns, "fault.dns", true, ""},
    {EventKind::kFaultReply, "fault.reply", true, ""},
    {EventKind::kTlsHandshake, "tls.handshake", false,
     "queue_id,policy,error,version,cipher,subject,issuer,names,not_after,verified,verify_result"},
    {EventKind::kTlsEstablished, "tls.established", false, "version,cipher,subject,issuer,names,not_after"},
    {EventKind::kTlsFailed, "tls.failed", false, "queue_id,policy,error"},
    {EventKind::kTlsFallback, "tls.fallback", false, "queue_id,next_hop"},
    {EventKind::kAttackStrip, "attack.strip", false, ""},
    {EventKind::kAttackRead, "attack.read", false, ""},
    {EventKind::kAttackBlind, "attack.blind", false, ""},
    {EventKind::kCaptureFinding, "capture.finding", false, "finding,octets"},
};

inline constexpr std::size_t kEventKindCount = sizeof(kEventKinds) / sizeof(kEventKinds[0]);

namespace internal {
constexpr bool kinds_in_enum_order() {
  for (std::size_t i = 0; i < kEventKindCount; ++i) {
    if (static_cast<std::size_t>(kEventKinds[i].kind) != i) return false;
  }
  return static_cast<std::size_t>(EventKind::kCaptureFinding) + 1 == kEventKindCount;
}
static_assert(kinds_in_enum_order(), "kEventKinds must list every EventKind once, in the enum's order");
}  // namespace internal

constexpr const EventKindInfo& info_of(EventKind kind) { return kEventKinds[static_cast<std::size_t>(kind)]; }
constexpr const char* name_of(EventKind kind) { return info_of(kind).name; }
constexpr bool is_message_level(EventKind kind) { return info_of(kind).message_level; }
// "queue.defer" -> EventKind::kQueueDefer; nullopt for a name no kind has.
std::optional<EventKind> event_kind_named(std::string_view name);
constexpr std::span<const EventKindInfo> all_event_kinds() { return kEventKinds; }
// Writes the kind's name (for test failures and logs).
std::ostream& operator<<(std::ostream& out, EventKind kind);

}  // namespace smtplab::sim
