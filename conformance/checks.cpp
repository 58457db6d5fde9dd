// The conformance checks. Each opens its own connection, so one broken
// answer cannot spoil the next check. None completes a transaction unless
// the owner named a recipient with --to: otherwise transactions end with
// RSET, or by closing the connection in the middle of DATA.
#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agents/smtp/address.hpp"
#include "agents/smtp/sasl.hpp"
#include "base/absl_string_view.hpp"
#include "conformance/check.hpp"

namespace smtplab::conformance {
namespace {

using R = absl::StatusOr<smtp::Reply>;
using namespace std::chrono_literals;

std::string said(const R& r) {
  if (!r.ok()) return std::string(r.status().message());
  return absl::StrCat(r->code, " ", r->enhanced.empty() ? "" : r->enhanced + " ", r->text());
}
bool is(const R& r, int code) { return r.ok() && r->code == code; }
bool klass(const R& r, int k) { return r.ok() && r->klass() == k; }

std::string rcpt_of(const Target& t) { return t.deliver_to.empty() ? "postmaster" : t.deliver_to; }
std::string mail_cmd(const Target& t, std::string_view params = {}) {
  return absl::StrCat("MAIL FROM:<", t.from, ">", params.empty() ? "" : " ", av(params));
}
std::string rcpt_cmd(const Target& t) { return absl::StrCat("RCPT TO:<", rcpt_of(t), ">"); }

// Greeting, EHLO and (with --auth) AUTH. Returns a verdict if the session
// could not get that far; `need_mail` checks also need MAIL to be allowed.
std::optional<Verdict> start(const Target& t, Probe& p, bool need_mail = true) {
  auto ehlo = p.open_session();
  if (!ehlo.ok()) return fail(absl::StrCat("no SMTP session: ", ehlo.status().message()));
  if (ehlo->code != 250) return fail(absl::StrCat("EHLO refused: ", said(ehlo)));
  if (t.auth && p.offers("AUTH")) {
    auto r = p.command(absl::StrCat("AUTH PLAIN ", smtp::encode_plain("", t.auth->first, t.auth->second)));
    if (!is(r, 235)) return skip(absl::StrCat("AUTH failed (", said(r), "): check --auth"));
  }
  if (need_mail && t.profile == Profile::kSubmission && !t.auth) {
    return skip("the submission profile needs --auth USER:PASS for mail transactions");
  }
  return std::nullopt;
}

// Greeting and EHLO in plaintext, whatever --starttls says: the TLS checks
// look at the upgrade itself.
std::optional<Verdict> plaintext_start(const Target& t, Probe& p) {
  if (t.tls.mode == ProbeTls::Mode::kImplicit) return skip("implicit TLS: there is no STARTTLS upgrade to check");
  if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
  auto greeting = p.reply();
  if (!is(greeting, 220)) return fail(absl::StrCat("no 220 greeting: ", said(greeting)));
  auto ehlo = p.ehlo();
  if (!is(ehlo, 250)) return fail(absl::StrCat("EHLO refused: ", said(ehlo)));
  return std::nullopt;
}

// Plaintext EHLO, STARTTLS, handshake: ready for the first EHLO inside TLS.
std::optional<Verdict> upgrade(const Target& t, Probe& p) {
  if (auto v = plaintext_start(t, p)) return v;
  if (!p.offers("STARTTLS")) return skip("STARTTLS not advertised");
  if (!p.can_do_tls()) return skip("no TLS client available");
  auto go = p.command("STARTTLS");
  if (!is(go, 220)) return fail(absl::StrCat("STARTTLS is advertised but answered ", said(go)));
  if (auto s = p.handshake(); !s.ok()) return fail(std::string(s.message()));
  return std::nullopt;
}

// Ends the transaction a check opened, so the next step starts clean. A
// failed RSET decides nothing here; it is noted in the transcript, where a
// later surprise can be traced back to it.
void reset(Probe& p) {
  auto r = p.command("RSET");
  if (!r.ok()) p.note(absl::StrCat("RSET got no reply: ", r.status().message()));
  else if (!r->is_positive()) p.note(absl::StrCat("RSET was answered ", r->code, ": the transaction may still be open"));
}

// MAIL + RCPT accepted, ready for DATA or more RCPTs.
std::optional<Verdict> envelope(const Target& t, Probe& p) {
  if (auto v = start(t, p)) return v;
  auto mail = p.command(mail_cmd(t));
  if (!klass(mail, 2)) return skip(absl::StrCat("MAIL FROM not accepted (", said(mail), "): try --from"));
  auto rcpt = p.command(rcpt_cmd(t));
  if (!klass(rcpt, 2)) return skip(absl::StrCat("RCPT TO:<", rcpt_of(t), "> not accepted (", said(rcpt), "): try --to"));
  return std::nullopt;
}

// After DATA's 354: send text that must not end the message, then see
// whether the server answers as if it had (it must stay silent), and leave
// by closing the connection so nothing is delivered.
Verdict no_early_end(Probe& p, std::string_view text, std::string_view shown) {
  auto data = p.command("DATA");
  if (!is(data, 354)) return skip(absl::StrCat("DATA not accepted: ", said(data)));
  p.send_raw(text, shown);
  auto r = p.reply(700ms);
  p.note("closing the connection without the final dot");
  p.close();
  if (r.ok()) {
    return fail(absl::StrCat("the server answered \"", said(r),
                             "\": it took the sequence as the end of the data, which is how SMTP smuggling works",
                             r->is_positive() ? " (and it has queued the short test message)" : ""));
  }
  return pass("no reply: the server is still reading message text, as it must");
}

Verdict survives(Probe& p) {
  auto noop = p.command("NOOP");
  if (is(noop, 250)) return pass("the server answered and kept serving");
  if (is(noop, 421) || !noop.ok()) return warn(absl::StrCat("the server closed the session: ", said(noop)));
  return fail(absl::StrCat("NOOP afterwards got ", said(noop)));
}

std::vector<Check> make_checks() {
  std::vector<Check> c;
  auto add = [&](std::string id, std::string group, std::string title, std::string ref, Level level,
                 std::function<Verdict(const Target&, Probe&)> run) {
    c.push_back(Check{std::move(id), std::move(group), std::move(title), std::move(ref), level, std::move(run)});
  };
  const Level MUST = Level::kMust, SHOULD = Level::kShould, MAY = Level::kMay;

  // ---- Greeting and EHLO/HELO
  add("greeting.220", "Greeting", "The greeting is 220", "RFC 5321 3.1, 4.2", MUST, [](const Target&, Probe& p) {
    if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
    auto g = p.reply();
    if (!g.ok()) return fail(absl::StrCat("no greeting: ", g.status().message()));
    return g->code == 220 ? pass() : fail(absl::StrCat("greeting was ", said(g)));
  });
  add("greeting.domain", "Greeting", "The greeting names the server", "RFC 5321 4.3.1", MUST, [](const Target&, Probe& p) {
    if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
    auto g = p.reply();
    if (!is(g, 220)) return skip("no 220 greeting");
    const std::string first = g->lines.empty() ? "" : g->lines[0].substr(0, g->lines[0].find(' '));
    if (!first.empty() && smtp::validate_domain_or_literal(first).ok()) return pass(absl::StrCat("names ", first));
    return fail(absl::StrCat("\"", g->lines.empty() ? "" : g->lines[0], "\" does not start with a domain"));
  });
  add("ehlo.multiline", "Greeting", "EHLO gets a well-formed 250, multi-line for extensions", "RFC 5321 4.1.1.1, 4.2.1",
      MUST, [](const Target&, Probe& p) {
        auto r = p.open_session();
        if (!r.ok()) return fail(absl::StrCat("EHLO reply unusable: ", r.status().message()));
        if (r->code != 250) return fail(absl::StrCat("EHLO got ", said(r)));
        const std::string first = r->lines[0].substr(0, r->lines[0].find(' '));
        if (!smtp::validate_domain_or_literal(first).ok()) {
          return fail(absl::StrCat("the first line \"", r->lines[0], "\" does not start with the server's name"));
        }
        if (r->lines.size() > 1 && r->lines.back().empty()) {
          return warn("the last line of the EHLO reply is empty; RFC 5321's grammar wants an ehlo-line there");
        }
        // Lines after the reply's last line mean the '-' continuation marks
        // were missing: the client would take them as replies to later commands.
        auto stray = p.reply(150ms);
        if (stray.ok()) {
          return fail(absl::StrCat("more lines after the end of the EHLO reply (\"", said(stray),
                                   "\"): multi-line replies need '-' after the code on all but the last line"));
        }
        return pass(absl::StrCat(r->lines.size() - 1, " extension line(s)"));
      });
  add("helo.works", "Greeting", "HELO still works", "RFC 5321 4.1.1.1", MUST, [](const Target&, Probe& p) {
    if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
    if (!is(p.reply(), 220)) return skip("no 220 greeting");
    auto r = p.command("HELO conformance.smtplab.example");
    return is(r, 250) ? pass() : fail(absl::StrCat("HELO got ", said(r)));
  });
  add("ehlo.resets_transaction", "Greeting", "EHLO in a transaction resets it", "RFC 5321 4.1.4", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        if (!is(p.command("EHLO conformance.smtplab.example"), 250)) return fail("a second EHLO was refused");
        auto r = p.command(rcpt_cmd(t));
        reset(p);
        return is(r, 503) ? pass("RCPT after the second EHLO got 503: the transaction was reset")
                          : fail(absl::StrCat("RCPT after the second EHLO got ", said(r), ", not 503"));
      });

  // ---- Command syntax
  add("syntax.unknown_command", "Syntax", "An unknown command gets 500", "RFC 5321 4.2.4", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("XYZZY plugh");
        return is(r, 500) ? pass() : fail(absl::StrCat("got ", said(r)));
      });
  // SHOULD: real servers accept a bare address by default (Postfix
  // strict_rfc821_envelopes = no), a leniency RFC 5321 tolerates.
  add("syntax.bad_arguments", "Syntax", "A malformed MAIL FROM gets 501", "RFC 5321 4.1.1.2, 4.2.3", SHOULD,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        auto r = p.command("MAIL FROM:not-an-address");
        if (is(r, 501)) return pass();
        if (klass(r, 5)) return warn(absl::StrCat("refused, but with ", said(r), " rather than 501"));
        reset(p);
        return warn(absl::StrCat("accepted: ", said(r), " (lenient parsing of MAIL FROM)"));
      });
  add("syntax.case_insensitive", "Syntax", "Verbs are case-insensitive", "RFC 5321 2.4", MUST, [](const Target& t, Probe& p) {
    if (auto v = start(t, p)) return *v;
    auto r = p.command(absl::StrCat("mail from:<", t.from, ">"));
    reset(p);
    return klass(r, 2) ? pass() : fail(absl::StrCat("lower-case MAIL got ", said(r)));
  });
  add("syntax.line_512", "Syntax", "A 512-octet command line is accepted", "RFC 5321 4.5.3.1.4", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("NOOP " + std::string(505, 'x'));  // 512 octets with CRLF
        return is(r, 250) ? pass() : fail(absl::StrCat("got ", said(r)));
      });
  add("syntax.missing_argument", "Syntax", "EHLO without a domain gets 501", "RFC 5321 4.1.1.1, 4.2.3", SHOULD,
      [](const Target&, Probe& p) {
        if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
        if (!is(p.reply(), 220)) return skip("no 220 greeting");
        auto r = p.command("EHLO");
        return is(r, 501) ? pass() : (klass(r, 5) ? warn(said(r)) : fail(absl::StrCat("got ", said(r))));
      });

  // ---- Sequencing
  add("seq.mail_before_ehlo", "Sequencing", "MAIL before EHLO/HELO is refused (503)", "RFC 5321 4.1.4", SHOULD,
      [](const Target& t, Probe& p) {
        if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
        if (!is(p.reply(), 220)) return skip("no 220 greeting");
        auto r = p.command(mail_cmd(t));
        if (is(r, 503)) return pass();
        reset(p);
        return klass(r, 2) ? warn("accepted without a greeting (RFC 5321 lets a server be lenient here)")
                           : warn(absl::StrCat("refused with ", said(r), " rather than 503"));
      });
  add("seq.rcpt_before_mail", "Sequencing", "RCPT before MAIL gets 503", "RFC 5321 4.1.4", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command(rcpt_cmd(t));
        return is(r, 503) ? pass() : fail(absl::StrCat("got ", said(r)));
      });
  add("seq.data_before_rcpt", "Sequencing", "DATA before RCPT gets 503 (or 554)", "RFC 5321 4.1.4, RFC 2920 3.1", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        auto r = p.command("DATA");
        if (is(r, 354)) {
          p.close();
          return fail("DATA was accepted with no recipient");
        }
        reset(p);
        return (is(r, 503) || is(r, 554)) ? pass(said(r)) : fail(absl::StrCat("got ", said(r)));
      });
  add("seq.nested_mail", "Sequencing", "A second MAIL in a transaction gets 503", "RFC 5321 4.1.4", SHOULD,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        auto r = p.command(mail_cmd(t));
        reset(p);
        return is(r, 503) ? pass() : warn(absl::StrCat("got ", said(r)));
      });
  add("seq.rset", "Sequencing", "RSET answers 250 and ends the transaction", "RFC 5321 4.1.1.5", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!is(p.command("RSET"), 250)) return fail("RSET outside a transaction was not 250");
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        if (!is(p.command("RSET"), 250)) return fail("RSET in a transaction was not 250");
        auto r = p.command(rcpt_cmd(t));
        return is(r, 503) ? pass() : fail(absl::StrCat("RCPT after RSET got ", said(r), ": the transaction survived"));
      });
  add("seq.noop", "Sequencing", "NOOP answers 250, with or without an argument", "RFC 5321 4.1.1.9", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto a = p.command("NOOP");
        auto b = p.command("NOOP some text");
        return is(a, 250) && is(b, 250) ? pass() : fail(absl::StrCat("got ", said(a), " and ", said(b)));
      });
  add("seq.quit", "Sequencing", "QUIT gets 221 and the server closes", "RFC 5321 4.1.1.10", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("QUIT");
        if (!is(r, 221)) return fail(absl::StrCat("QUIT got ", said(r)));
        return p.closed_within(3s) ? pass() : fail("221, but the connection stayed open");
      });

  // ---- Paths
  add("path.null_sender", "Paths", "The null reverse-path <> is accepted", "RFC 5321 4.5.5", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        auto r = p.command("MAIL FROM:<>");
        reset(p);
        return klass(r, 2) ? pass() : fail(absl::StrCat("MAIL FROM:<> got ", said(r), ": bounces could not be delivered"));
      });
  add("path.postmaster", "Paths", "RCPT TO:<postmaster> without a domain is accepted", "RFC 5321 4.5.1", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        auto r = p.command("RCPT TO:<Postmaster>");
        reset(p);
        return klass(r, 2) ? pass() : fail(absl::StrCat("got ", said(r)));
      });
  add("path.malformed_rejected", "Paths", "A malformed forward-path is refused (501)", "RFC 5321 4.1.2", SHOULD,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        auto r = p.command("RCPT TO:<bad address@@example.org>");
        reset(p);
        // 553 is RFC 5321 4.2.3's "mailbox name not allowed (syntax incorrect)".
        if (is(r, 501) || is(r, 553)) return pass(said(r));
        return klass(r, 5) ? warn(absl::StrCat("refused with ", said(r))) : fail(absl::StrCat("accepted: ", said(r)));
      });
  add("path.source_route", "Paths", "A source route in RCPT is accepted and ignored", "RFC 5321 4.1.1.3, appendix C",
      SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        const std::string target = rcpt_of(t) == "postmaster" ? "postmaster" : rcpt_of(t);
        if (target == "postmaster") return skip("needs --to (a source route needs a full address)");
        auto r = p.command(absl::StrCat("RCPT TO:<@relay.smtplab.example:", target, ">"));
        reset(p);
        return klass(r, 2) ? pass() : warn(absl::StrCat("got ", said(r)));
      });

  // ---- DATA
  add("data.354", "DATA", "DATA after a recipient gets 354", "RFC 5321 4.1.1.4", MUST, [](const Target& t, Probe& p) {
    if (auto v = envelope(t, p)) return *v;
    auto r = p.command("DATA");
    p.close();  // without the final dot nothing is delivered
    return is(r, 354) ? pass() : fail(absl::StrCat("got ", said(r)));
  });
  add("data.delivery", "DATA", "A message with dot lines and a 1000-octet line is accepted", "RFC 5321 4.5.2, 4.5.3.1.6",
      MUST, [](const Target& t, Probe& p) {
        if (t.deliver_to.empty()) return skip("completes a delivery: give --to with a recipient you own");
        if (auto v = envelope(t, p)) return *v;
        if (!is(p.command("DATA"), 354)) return fail("DATA not accepted");
        const std::string text = absl::StrCat("Subject: smtplab conformance test\r\n\r\n..one dot\r\n..\r\n",
                                              std::string(998, 'x'), "\r\n.\r\n");
        p.send_raw(text, "(message: a line '.one dot', a line '.', a 998-character line, then '.')");
        auto r = p.reply();
        return is(r, 250) ? pass() : fail(absl::StrCat("end of data got ", said(r)));
      });

  // ---- Extensions, when advertised
  add("ext.size_enforced", "Extensions", "SIZE: a declared size over the limit gets 552 at MAIL", "RFC 1870 6", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!p.offers("SIZE")) return skip("SIZE not advertised");
        std::uint64_t limit = 0;
        if (!absl::SimpleAtoi(p.extension_params("SIZE"), &limit) || limit == 0) return skip("SIZE advertised without a limit");
        auto ok = p.command(mail_cmd(t, "SIZE=1000"));
        reset(p);
        if (!klass(ok, 2)) return fail(absl::StrCat("SIZE=1000 got ", said(ok)));
        auto r = p.command(mail_cmd(t, absl::StrCat("SIZE=", limit + 1)));
        reset(p);
        return is(r, 552) ? pass(absl::StrCat("limit ", limit)) : fail(absl::StrCat("SIZE=", limit + 1, " got ", said(r)));
      });
  add("ext.8bitmime", "Extensions", "8BITMIME: BODY=8BITMIME is accepted", "RFC 6152 3", MUST, [](const Target& t, Probe& p) {
    if (auto v = start(t, p)) return *v;
    if (!p.offers("8BITMIME")) return skip("8BITMIME not advertised");
    auto r = p.command(mail_cmd(t, "BODY=8BITMIME"));
    reset(p);
    return klass(r, 2) ? pass() : fail(absl::StrCat("got ", said(r)));
  });
  add("ext.smtputf8", "Extensions", "SMTPUTF8: the SMTPUTF8 parameter is accepted", "RFC 6531 3.4", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!p.offers("SMTPUTF8")) return skip("SMTPUTF8 not advertised");
        auto r = p.command(mail_cmd(t, "SMTPUTF8"));
        reset(p);
        return klass(r, 2) ? pass() : fail(absl::StrCat("got ", said(r)));
      });
  add("ext.pipelining_order", "Extensions", "PIPELINING: a pipelined group gets its replies in order", "RFC 2920 3.1",
      MUST, [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!p.offers("PIPELINING")) return skip("PIPELINING not advertised");
        // The refused RCPT second, so that replies out of order cannot look right.
        p.send_raw(absl::StrCat(mail_cmd(t), "\r\nRCPT TO:<>\r\n", rcpt_cmd(t), "\r\nRSET\r\nNOOP\r\n"),
                   "(five commands in one packet: MAIL, a bad RCPT, RCPT, RSET, NOOP)");
        std::vector<int> codes;
        for (int i = 0; i < 5; ++i) {
          auto r = p.reply();
          if (!r.ok()) return fail(absl::StrCat("only ", codes.size(), " of 5 replies: ", r.status().message()));
          codes.push_back(r->code);
        }
        if (std::all_of(codes.begin(), codes.end(), [](int code) { return code / 100 == 2; })) {
          return skip("the server accepts RCPT TO:<> (a sink?), so these replies cannot show their order");
        }
        const bool ok = codes[0] / 100 == 2 && codes[1] / 100 == 5 && codes[2] / 100 == 2 && codes[3] == 250 &&
                        codes[4] == 250;
        return ok ? pass() : fail(absl::StrCat("replies ", codes[0], " ", codes[1], " ", codes[2], " ", codes[3], " ",
                                               codes[4], " do not match the commands in order"));
      });
  add("ext.enhanced_codes", "Extensions", "ENHANCEDSTATUSCODES: replies carry x.y.z codes", "RFC 2034 3", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!p.offers("ENHANCEDSTATUSCODES")) return skip("ENHANCEDSTATUSCODES not advertised");
        auto mail = p.command(mail_cmd(t));
        auto rset = p.command("RSET");
        if (mail.ok() && !mail->enhanced.empty() && rset.ok() && !rset->enhanced.empty()) return pass();
        return fail(absl::StrCat("MAIL got \"", said(mail), "\", RSET \"", said(rset), "\""));
      });
  add("ext.chunking", "Extensions", "CHUNKING: a BDAT chunk gets 250", "RFC 3030 2", MUST, [](const Target& t, Probe& p) {
    if (auto v = envelope(t, p)) return *v;
    if (!p.offers("CHUNKING")) return skip("CHUNKING not advertised");
    p.send_raw("BDAT 12\r\nSubject: x\r\n", "BDAT 12 (then 12 octets; not the LAST chunk, so nothing is delivered)");
    auto r = p.reply();
    reset(p);
    return is(r, 250) ? pass() : fail(absl::StrCat("BDAT got ", said(r)));
  });
  add("ext.dsn", "Extensions", "DSN: NOTIFY and ORCPT are accepted", "RFC 3461 4.1, 4.2", MUST, [](const Target& t, Probe& p) {
    if (auto v = start(t, p)) return *v;
    if (!p.offers("DSN")) return skip("DSN not advertised");
    if (!klass(p.command(mail_cmd(t, "RET=HDRS ENVID=smtplab")), 2)) return fail("MAIL with RET and ENVID refused");
    auto r = p.command(absl::StrCat(rcpt_cmd(t), " NOTIFY=FAILURE,DELAY ORCPT=rfc822;", rcpt_of(t)));
    reset(p);
    return klass(r, 2) ? pass() : fail(absl::StrCat("RCPT with NOTIFY/ORCPT got ", said(r)));
  });
  add("ext.unknown_parameter", "Extensions", "An unknown MAIL parameter gets 555 (or 501)", "RFC 5321 4.1.1.11, 4.2.3",
      SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        auto r = p.command(mail_cmd(t, "XSMTPLAB-UNKNOWN=1"));
        reset(p);
        if (is(r, 555)) return pass();
        if (is(r, 501)) return warn("501 rather than 555");
        return fail(absl::StrCat("got ", said(r)));
      });

  // ---- Limits
  add("limits.100_recipients", "Limits", "100 recipients are accepted, or extras get 452", "RFC 5321 4.5.3.1.8, 4.5.3.1.10",
      MUST, [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command(mail_cmd(t)), 2)) return skip("MAIL not accepted");
        int accepted = 0, limited = 0, other = 0;
        std::string first_other;
        for (int i = 0; i < 100; ++i) {
          auto r = p.command(rcpt_cmd(t));
          if (klass(r, 2)) ++accepted;
          else if (is(r, 452)) ++limited;
          else if (++other == 1) first_other = said(r);
          if (!r.ok()) break;
        }
        reset(p);
        if (accepted == 100) return pass();
        if (other == 0 && accepted + limited == 100) return warn(absl::StrCat("452 after ", accepted, " recipients"));
        return fail(absl::StrCat(accepted, " accepted, ", limited, " got 452, others: ", first_other));
      });

  // ---- TLS and authentication
  add("tls.starttls_offered", "TLS", "STARTTLS is offered", "RFC 3207, RFC 8314 3.3", SHOULD,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        return p.offers("STARTTLS") ? pass() : warn("STARTTLS not advertised: mail to this server travels in plaintext");
      });
  add("tls.handshake", "TLS", "STARTTLS leads to a TLS handshake (TLS 1.2 or later)", "RFC 3207 4, RFC 8996", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = upgrade(t, p)) return *v;
        const tls::HandshakeReport& r = *p.tls_report();
        const std::string what = absl::StrCat(r.version, " with ", r.cipher);
        if (r.version == "TLSv1" || r.version == "TLSv1.1") {
          return warn(absl::StrCat(what, ": TLS 1.0 and 1.1 are deprecated (RFC 8996)"));
        }
        return pass(what);
      });
  add("tls.certificate", "TLS", "The certificate verifies: trusted chain, valid dates, the server's name",
      "RFC 7672 3, RFC 8461 4.2, RFC 6125 6", SHOULD, [](const Target& t, Probe& p) {
        if (auto v = upgrade(t, p)) return *v;
        const tls::HandshakeReport& r = *p.tls_report();
        const std::string details = absl::StrCat("subject ", r.peer_subject, ", issuer ", r.peer_issuer, ", names [",
                                                 r.peer_names, "], valid until ", r.peer_not_after);
        if (r.verified) return pass(details);
        // Opportunistic senders deliver anyway; DANE and MTA-STS senders will not.
        return warn(absl::StrCat("NOT verified (", r.verify_result, "): ", details));
      });
  add("tls.no_starttls_inside_tls", "TLS", "STARTTLS is not offered again inside TLS", "RFC 3207 4.2", MUST,
      [](const Target& t, Probe& p) {
        if (auto v = upgrade(t, p)) return *v;
        auto ehlo = p.ehlo();
        if (!is(ehlo, 250)) return fail(absl::StrCat("EHLO inside TLS refused: ", said(ehlo)));
        return p.offers("STARTTLS") ? fail("the EHLO reply inside TLS still lists STARTTLS") : pass();
      });
  add("tls.session_restarts", "TLS", "After TLS the server forgets the earlier EHLO (MAIL before EHLO is refused)",
      "RFC 3207 4.2", MUST, [](const Target& t, Probe& p) {
        // The control: a server that takes MAIL before any EHLO (RFC 5321
        // lets it be lenient) cannot show whether it forgot one.
        if (t.tls.mode == ProbeTls::Mode::kImplicit) return skip("implicit TLS: there is no STARTTLS upgrade to check");
        if (auto s = p.connect(); !s.ok()) return fail(std::string(s.message()));
        if (!is(p.reply(), 220)) return fail("no 220 greeting");
        auto control = p.command(mail_cmd(t));
        if (klass(control, 2)) {
          reset(p);
          return skip("the server accepts MAIL without EHLO even in plaintext, so a forgotten EHLO cannot be seen");
        }
        p.close();
        p.note("reconnecting for the check itself");
        if (auto v = upgrade(t, p)) return *v;
        auto mail = p.command(mail_cmd(t));
        if (klass(mail, 2)) {
          reset(p);
          return fail("MAIL was accepted inside TLS without a new EHLO: the server kept what it learnt in plaintext");
        }
        if (!mail.ok()) return fail(absl::StrCat("no answer to MAIL inside TLS: ", said(mail)));
        return pass(absl::StrCat("MAIL before the new EHLO got ", said(mail)));
      });
  add("auth.offered_inside_tls", "TLS", "Submission offers AUTH PLAIN or LOGIN inside TLS", "RFC 6409 4.1, RFC 4954 4",
      SHOULD, [](const Target& t, Probe& p) {
        if (t.profile != Profile::kSubmission) return skip("submission profile only");
        if (auto v = upgrade(t, p)) return *v;
        auto ehlo = p.ehlo();
        if (!is(ehlo, 250)) return fail(absl::StrCat("EHLO inside TLS refused: ", said(ehlo)));
        const std::string mechanisms = p.extension_params("AUTH");
        if (absl::StrContains(mechanisms, "PLAIN") || absl::StrContains(mechanisms, "LOGIN")) {
          return pass(absl::StrCat("AUTH ", mechanisms));
        }
        return warn(mechanisms.empty() ? "no AUTH inside TLS" : absl::StrCat("AUTH ", mechanisms, " only"));
      });
  add("auth.not_before_tls", "TLS", "AUTH PLAIN/LOGIN is not offered before TLS (submission)", "RFC 4954 4, RFC 8314",
      SHOULD, [](const Target& t, Probe& p) {
        if (t.profile != Profile::kSubmission) return skip("submission profile only");
        if (auto v = start(t, p, false)) return *v;
        const std::string mechanisms = p.extension_params("AUTH");
        if (absl::StrContains(mechanisms, "PLAIN") || absl::StrContains(mechanisms, "LOGIN")) {
          return warn(absl::StrCat("AUTH ", mechanisms, " offered in plaintext"));
        }
        return pass();
      });
  add("auth.required_for_submission", "TLS", "Submission refuses mail without AUTH (530)", "RFC 6409 4.1, RFC 4954 6",
      SHOULD, [](const Target& t, Probe& p) {
        if (t.profile != Profile::kSubmission) return skip("submission profile only");
        auto ehlo = p.open_session();
        if (!is(ehlo, 250)) return fail("no EHLO");
        auto r = p.command(mail_cmd(t));
        if (klass(r, 2)) {
          reset(p);
          return fail("MAIL accepted without authentication");
        }
        return is(r, 530) ? pass() : warn(absl::StrCat("refused with ", said(r)));
      });

  // ---- Security
  struct Smuggle {
    const char* id;
    const char* bytes;
    const char* shown;
  };
  for (const Smuggle& s : {Smuggle{"security.smuggling_lf_dot_lf", "Subject: x\r\n\r\ntext\n.\n", "text<LF>.<LF>"},
                           Smuggle{"security.smuggling_lf_dot_crlf", "Subject: x\r\n\r\ntext\n.\r\n", "text<LF>.<CR><LF>"},
                           Smuggle{"security.smuggling_crlf_dot_lf", "Subject: x\r\n\r\ntext\r\n.\n", "text<CR><LF>.<LF>"},
                           Smuggle{"security.smuggling_cr_dot_cr", "Subject: x\r\n\r\ntext\r.\r", "text<CR>.<CR>"},
                           Smuggle{"security.smuggling_crlf_dot_cr", "Subject: x\r\n\r\ntext\r\n.\r", "text<CR><LF>.<CR>"}}) {
    add(s.id, "Security", absl::StrCat("SMTP smuggling: ", s.shown, " does not end the data"), "RFC 5321 2.3.8, 4.1.1.4",
        MUST, [s](const Target& t, Probe& p) {
          if (auto v = envelope(t, p)) return *v;
          return no_early_end(p, s.bytes, absl::StrCat("(message text ending in ", s.shown, ")"));
        });
  }
  // The issue an outside probe found in smtplab's own sink: a line refused
  // for its bare LF, while the text after the LF ran as a second command.
  add("security.bare_lf_command_split", "Security", "A bare LF does not split one command line into two",
      "RFC 5321 2.3.8", MUST, [](const Target& t, Probe& p) {
        if (auto v = start(t, p)) return *v;
        auto mail = p.command(mail_cmd(t));
        if (!klass(mail, 2)) return skip(absl::StrCat("MAIL FROM not accepted (", said(mail), "): try --from"));
        p.send_raw(absl::StrCat("NOOP\n", rcpt_cmd(t), "\r\n"), absl::StrCat("NOOP<LF>", rcpt_cmd(t), "<CR><LF>"));
        auto first = p.reply();
        auto second = p.reply(1000ms);
        reset(p);
        if (!first.ok()) return warn(absl::StrCat("no reply: ", first.status().message()));
        if (!second.ok()) {
          return pass(absl::StrCat("one line, one reply: ", said(first)));
        }
        if (klass(first, 5) && klass(second, 2)) {
          return fail(absl::StrCat("the line was refused (", said(first), "), yet the RCPT after the bare LF ran: ",
                                   said(second), ". A filter in front sees one line; the server runs two commands"));
        }
        return warn(absl::StrCat("a bare LF ended a command line (", said(first), ", then ", said(second),
                                 "): lines end with CRLF only"));
      });
  add("security.starttls_injection", "Security", "Nothing pipelined behind STARTTLS runs in plaintext",
      "RFC 3207 4.2, CVE-2011-0411", MUST, [](const Target& t, Probe& p) {
        if (auto v = plaintext_start(t, p)) return *v;
        if (!p.offers("STARTTLS")) return skip("STARTTLS not advertised");
        p.send_raw("STARTTLS\r\nNOOP\r\n", "STARTTLS + NOOP in one packet");
        auto first = p.reply();
        if (!is(first, 220)) return skip(absl::StrCat("STARTTLS got ", said(first)));
        auto second = p.reply(700ms);
        if (second.ok()) return fail(absl::StrCat("the pipelined NOOP was answered in plaintext: ", said(second)));
        // The CVE itself: the plaintext NOOP was kept and runs inside TLS,
        // where its 250 arrives before the client has said anything.
        if (!p.can_do_tls()) return pass("only the 220 came back in plaintext");
        if (auto s = p.handshake(); !s.ok()) return pass("only the 220 came back in plaintext (no TLS handshake followed)");
        auto unsolicited = p.reply(700ms);
        return unsolicited.ok()
                   ? fail(absl::StrCat("the NOOP sent in plaintext was executed inside TLS: ", said(unsolicited)))
                   : pass("nothing sent in plaintext was executed, before or after the handshake");
      });
  add("security.open_relay", "Security", "Mail for a foreign domain is refused (no open relay)", "RFC 5321 3.6.2, RFC 2505",
      MUST, [](const Target& t, Probe& p) {
        if (t.profile != Profile::kMx) return skip("mx profile only");
        if (t.auth) return skip("with --auth relaying is expected");
        if (auto v = start(t, p)) return *v;
        if (!klass(p.command("MAIL FROM:<relay-test@smtplab.example>"), 2)) return skip("MAIL not accepted");
        auto r = p.command("RCPT TO:<relay-test@relay-target.smtplab.invalid>");
        reset(p);
        // A 4xx refusal (Postfix's defer_unauth_destination: 454 4.7.1) relays nothing either.
        return !klass(r, 2) ? pass(said(r)) : fail(absl::StrCat("a foreign recipient got ", said(r), ": open relay"));
      });
  add("security.vrfy", "Security", "VRFY is answered without confirming users (252, or 502)", "RFC 5321 3.5.3, 7.3", MAY,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("VRFY postmaster");
        if (is(r, 252) || is(r, 502) || is(r, 550)) return pass(said(r));
        return warn(absl::StrCat("VRFY got ", said(r), ": it may help address harvesting"));
      });
  add("security.expn", "Security", "EXPN does not reveal lists (502 or 252)", "RFC 5321 3.5.2, 7.3", MAY,
      [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("EXPN postmaster");
        if (klass(r, 2) && !is(r, 252)) return warn(absl::StrCat("EXPN got ", said(r)));
        return pass(said(r));
      });

  // ---- Robustness
  add("robust.garbage_line", "Robustness", "A garbage line gets an error and the server carries on",
      "RFC 5321 4.2.4", SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        auto r = p.command("\x01\x02\xff\xfe garbage");
        if (!klass(r, 5)) return fail(absl::StrCat("garbage got ", said(r)));
        return survives(p);
      });
  add("robust.nul_byte", "Robustness", "A NUL byte in a command gets an error and the server carries on",
      "RFC 5321 4.2.4", SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        p.send_raw(std::string("NO\0OP\r\n", 7), "NO<NUL>OP");
        auto r = p.reply();
        if (!klass(r, 5)) return fail(absl::StrCat("got ", said(r)));
        return survives(p);
      });
  add("robust.long_line", "Robustness", "A 100,000-octet line gets an error and the server carries on",
      "RFC 5321 4.5.3.1.4", SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        p.send_line("NOOP " + std::string(100000, 'y'));
        auto r = p.reply();
        if (!r.ok()) return warn(absl::StrCat("no reply: ", r.status().message()));
        if (klass(r, 2)) return warn("accepted (the server may have cut the line short without saying so)");
        return survives(p);
      });
  add("robust.bare_lf_command", "Robustness", "A command ending in a bare LF is not taken as a CRLF line",
      "RFC 5321 2.3.8", SHOULD, [](const Target& t, Probe& p) {
        if (auto v = start(t, p, false)) return *v;
        p.send_raw("NOOP\n", "NOOP<LF>");
        auto r = p.reply(1000ms);
        if (!r.ok()) return pass("no reply: the line is not complete without CRLF");
        if (klass(r, 5)) return pass(absl::StrCat("refused: ", said(r)));
        return warn("a bare LF ended a command line; harmless if message text still needs CRLF (see the smuggling checks)");
      });
  add("robust.stalled_client", "Robustness", "A client that stops talking is eventually disconnected",
      "RFC 5321 4.5.3.2.7", SHOULD, [](const Target& t, Probe& p) {
        if (!t.slow) return skip("waits for the server's own timeout: run with --slow");
        if (auto v = start(t, p, false)) return *v;
        return p.closed_within(std::chrono::minutes(11)) ? pass() : warn("still open after 11 minutes");
      });
  return c;
}

}  // namespace

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kMust: return "MUST";
    case Level::kShould: return "SHOULD";
    case Level::kMay: return "MAY";
  }
  return "?";
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass: return "PASS";
    case Outcome::kFail: return "FAIL";
    case Outcome::kWarn: return "WARN";
    case Outcome::kSkip: return "SKIP";
  }
  return "?";
}

const std::vector<Check>& all_checks() {
  static const auto* checks = new std::vector<Check>(make_checks());
  return *checks;
}

}  // namespace smtplab::conformance
