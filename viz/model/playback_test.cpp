// The playback model on real traces from library scenarios: stepping both
// ways agrees with a replay from the start, envelopes are where the trace
// says at known times, and long waits are compressed for display.
#include "viz/model/playback.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "viz/model/library_trace_for_tests.hpp"

namespace smtplab::viz {
namespace {

WorldState replay(const std::vector<sim::TraceEvent>& events, std::size_t n) {
  WorldState s;
  for (std::size_t i = 0; i < n; ++i) s.apply(events[i], i);
  return s;
}

// The cursor position right after `e` (an element of `events`).
std::size_t after(const std::vector<sim::TraceEvent>& events, const sim::TraceEvent& e) {
  return static_cast<std::size_t>(&e - events.data()) + 1;
}

const sim::TraceEvent& first(const std::vector<sim::TraceEvent>& events, sim::EventKind kind,
                             const std::string& host = {}) {
  for (const auto& e : events) {
    if (e.kind == kind && (host.empty() || e.host == host)) return e;
  }
  ADD_FAILURE() << "no " << kind << " at " << host;
  return events.front();
}

TEST(PlaybackTest, SteppingBothWaysMatchesAReplayFromTheStart) {
  const auto events = trace_of("greylisting.yaml");
  ASSERT_GT(events.size(), Playback::kSnapshotEvery / 2);
  Playback p(events);
  for (std::size_t i = 0; i < events.size(); ++i) p.step_forward();
  EXPECT_EQ(p.cursor(), events.size());
  EXPECT_EQ(p.state(), replay(events, events.size()));
  // Back all the way in uneven strides, checking against a fresh replay.
  for (std::size_t target : {events.size() - 1, events.size() / 2 + 3, std::size_t{17}, std::size_t{1}}) {
    while (p.cursor() > target) p.step_back();
    EXPECT_EQ(p.state(), replay(events, target)) << "at " << target;
  }
  p.step_back();
  EXPECT_EQ(p.cursor(), 0u);
  EXPECT_EQ(p.state(), WorldState());
}

TEST(PlaybackTest, SnapshotsMakeLongJumpsBackExact) {
  const auto events = trace_of("queue-lifetime.yaml");  // a week of retries: many events
  ASSERT_GT(events.size(), 3 * Playback::kSnapshotEvery);
  Playback p(events);
  p.seek_event(events.size());
  p.seek_event(Playback::kSnapshotEvery * 2 + 5);
  EXPECT_EQ(p.state(), replay(events, Playback::kSnapshotEvery * 2 + 5));
  p.seek_event(3);
  EXPECT_EQ(p.state(), replay(events, 3));
}

// The greylisted message waits in mx.example.org's queue with a retry time,
// then travels and lands in bob's mailbox.
TEST(PlaybackTest, EnvelopesAreWhereTheTraceSays) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(events);
  const auto& wait = first(events, sim::EventKind::kQueueWait, "mx.example.org");
  auto at = [&](std::int64_t t) { return p.journeys().at(t); };

  // Halfway through the 300 s wait: one envelope, deferred at mx.example.org.
  const std::int64_t mid_wait = wait.time_us + 150'000'000;
  auto env = at(mid_wait);
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].segment->from, "mx.example.org");
  EXPECT_EQ(env[0].segment->state, EnvelopeState::kDeferred);
  EXPECT_EQ(env[0].segment->next_attempt_us, wait.time_us + 300'000'000);

  // Halfway along the successful second attempt: travelling mx.example.org -> mx.example.net.
  const sim::TraceEvent* second_attempt = nullptr;
  for (const auto& e : events) {
    if (e.kind == sim::EventKind::kQueueAttempt && e.host == "mx.example.org" && e.time_us > wait.time_us) {
      second_attempt = &e;
      break;
    }
  }
  ASSERT_NE(second_attempt, nullptr);
  const auto& enqueued = [&]() -> const sim::TraceEvent& {
    for (const auto& e : events) {
      if (e.kind == sim::EventKind::kQueueEnqueue && e.host == "mx.example.net") return e;
    }
    return events.front();
  }();
  env = at((second_attempt->time_us + enqueued.time_us) / 2);
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].segment->kind, Segment::Kind::kFlight);
  EXPECT_EQ(env[0].segment->to, "mx.example.net");
  EXPECT_NEAR(env[0].progress, 0.5, 0.01);

  // At the end: delivered at the mailbox server.
  env = at(events.back().time_us);
  ASSERT_EQ(env.size(), 1u);
  EXPECT_EQ(env[0].segment->state, EnvelopeState::kDelivered);
  EXPECT_EQ(env[0].segment->from, "mail.example.net");
}

TEST(PlaybackTest, ABounceTravelsBackMarkedAsOne) {
  const auto events = trace_of("unknown-user.yaml");
  Journeys j(events);
  bool bounce_delivered = false;
  for (const auto& s : j.segments()) {
    if (s.is_bounce && s.state == EnvelopeState::kDelivered) bounce_delivered = s.from == "mail.example.org";
  }
  EXPECT_TRUE(bounce_delivered);
}

// A 300 s wait is compressed to at most the longest gap; a 20 ms exchange is
// slowed down.
TEST(PlaybackTest, LongWaitsAreCompressedShortOnesSlowed) {
  const auto events = trace_of("greylisting.yaml");
  DisplayTimeline t(events, {.slow_motion = 10, .longest_gap = 2.5});
  const auto& wait = first(events, sim::EventKind::kQueueWait, "mx.example.org");
  const auto& retry = first(events, sim::EventKind::kQueueRetry, "mx.example.org");
  const std::size_t w = static_cast<std::size_t>(&wait - events.data());
  const std::size_t r = static_cast<std::size_t>(&retry - events.data());
  EXPECT_NEAR(t.at_event(r) - t.at_event(w), 2.5, 1e-9);
  EXPECT_LT(t.length(), 60.0);  // the whole run is watchable
  // Inverse mapping: halfway through the compressed wait is halfway through 300 s.
  const double mid = (t.at_event(w) + t.at_event(r)) / 2;
  EXPECT_NEAR(static_cast<double>(t.virtual_at(mid) - wait.time_us), 150e6, 1e3);
}

TEST(PlaybackTest, PlayingAdvancesWithTimeAndStopsAtTheEnd) {
  const auto events = trace_of("direct-delivery.yaml");
  Playback p(events);
  p.play();
  p.tick(0.5);
  EXPECT_GT(p.cursor(), 0u);
  EXPECT_LT(p.cursor(), events.size());
  for (int i = 0; i < 1000 && p.playing(); ++i) p.tick(0.5);
  EXPECT_FALSE(p.playing());
  EXPECT_EQ(p.cursor(), events.size());
}

TEST(PlaybackTest, NextMessageEventSkipsTheWireChatter) {
  const auto events = trace_of("direct-delivery.yaml");
  Playback p(events);
  p.next_message_event();
  ASSERT_GT(p.cursor(), 0u);
  EXPECT_TRUE(sim::is_message_level(events[p.cursor() - 1]));
  const std::size_t first_message_event = p.cursor();
  p.next_message_event();
  EXPECT_GT(p.cursor(), first_message_event);
  EXPECT_TRUE(sim::is_message_level(events[p.cursor() - 1]));
  for (std::size_t i = first_message_event; i + 1 < p.cursor(); ++i) EXPECT_FALSE(sim::is_message_level(events[i]));
  p.previous_message_event();
  EXPECT_EQ(p.cursor(), first_message_event);
}

TEST(PlaybackTest, LayoutFollowsTheDeliveryPath) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(events);
  const Topology& t = p.topology();
  auto x = [&](const std::string& h) {
    const NodePlace* n = t.find(h);
    EXPECT_NE(n, nullptr) << h;
    return n == nullptr ? -1.0f : n->x;
  };
  EXPECT_LT(x("laptop.example.org"), x("submit.example.org"));
  EXPECT_LT(x("submit.example.org"), x("mx.example.org"));
  EXPECT_LT(x("mx.example.org"), x("mx.example.net"));
  EXPECT_LT(x("mx.example.net"), x("mail.example.net"));
  EXPECT_NE(t.find(Topology::kDns), nullptr);
}

// Under smtplab serve a client from outside (swaks on 127.0.0.1) talks to the
// MSA: it is drawn beside the MSA, above the path, not as a step of it in
// the MTAs' column.
TEST(PlaybackTest, AnOutsideClientSitsBesideTheHostItConnectsTo) {
  auto events = trace_of("greylisting.yaml");
  sim::TraceEvent open;
  open.kind = sim::EventKind::kConnOpen;
  open.host = "127.0.0.1";
  open.agent = "net";
  open.peer = "submit.example.org";
  open.connection = 99;
  open.text = "127.0.0.1:50000 -> 192.0.2.11:587";
  open.time_us = events.back().time_us + 1;
  sim::TraceEvent greeting = open;
  greeting.kind = sim::EventKind::kSmtpReply;
  greeting.host = "submit.example.org";
  greeting.agent = "msa";
  greeting.peer = "127.0.0.1";
  greeting.text = "220 submit.example.org ESMTP smtplab";
  greeting.code = 220;
  events.push_back(open);
  events.push_back(greeting);
  Playback p(events);
  const NodePlace* client = p.topology().find("127.0.0.1");
  const NodePlace* msa = p.topology().find("submit.example.org");
  const NodePlace* mta = p.topology().find("mx.example.org");
  ASSERT_NE(client, nullptr);
  ASSERT_NE(msa, nullptr);
  ASSERT_NE(mta, nullptr);
  EXPECT_LT(client->x, msa->x);
  EXPECT_GT(client->x, msa->x - 0.2f);
  EXPECT_LT(client->y, msa->y - 0.1f);  // above the path
  EXPECT_LT(client->x, mta->x);          // not a hop after the MSA
}

// The world state at the end says what a student should see in the panels.
TEST(PlaybackTest, StateHoldsQueuesMailboxesAndTranscripts) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(events);
  const auto& wait = first(events, sim::EventKind::kQueueWait, "mx.example.org");
  p.seek_event(after(events, wait));
  const HostState& org = p.state().hosts().at("mx.example.org");
  ASSERT_EQ(org.queue.size(), 1u);
  EXPECT_EQ(org.queue.begin()->second.state, QueueEntry::State::kDeferred);
  EXPECT_NE(org.queue.begin()->second.last_reply.find("451"), std::string::npos);
  p.seek_event(events.size());
  EXPECT_TRUE(p.state().hosts().at("mx.example.org").queue.empty());
  ASSERT_EQ(p.state().hosts().at("mail.example.net").mailbox.size(), 1u);
  bool saw_greylist_line = false;
  for (const auto& [id, c] : p.state().connections()) {
    for (const auto& l : c.lines) saw_greylist_line |= l.who == 'S' && events[l.event].text.find("451 4.7.1") == 0;
  }
  EXPECT_TRUE(saw_greylist_line);
}

// RFC 2920 3.1: a pipelined MAIL, RCPT, DATA crossed the wire as one write,
// then came the three replies; the transcript shows that order, not the
// trace's (which records each command as the server handled it).
TEST(PlaybackTest, TranscriptShowsAPipelinedBatchBeforeItsReplies) {
  const auto events = trace_of("direct-delivery.yaml");
  Playback p(events);
  p.seek_event(events.size());
  const ConnectionState& c = p.state().connections().begin()->second;  // laptop -> submit
  std::string order;
  for (const auto& l : c.lines) {
    const std::string& text = events[l.event].text;
    if (l.who == '*') continue;
    order += std::string(1, l.who) + (l.pipelined ? "|" : "") + text.substr(0, 4) + " ";
  }
  EXPECT_NE(order.find("CMAIL C|RCPT C|DATA S250  S250  S354  "), std::string::npos) << order;
}

// RFC 5321 4.4: every hop adds a Received: header on top; the inspector's
// text grows hop by hop, newest first, from what the trace recorded.
TEST(PlaybackTest, MessageTextGrowsAReceivedHeaderPerHop) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(events);
  p.seek_event(events.size());
  ASSERT_EQ(p.state().messages().size(), 1u);
  const MessageState& m = p.state().messages().begin()->second;
  EXPECT_NE(m.headers.str().find("Subject: Lunch on Friday?"), std::string::npos);
  EXPECT_NE(m.body.str().find("are you free for lunch"), std::string::npos);
  // submit, mx.example.org, mx.example.net, then the MDA's Return-Path + Received.
  ASSERT_EQ(m.added.size(), 4u);
  const std::string text = m.current_text();
  const auto mda = text.find("by mail.example.net");
  const auto net = text.find("by mx.example.net");
  const auto org = text.find("by mx.example.org");
  const auto msa = text.find("by submit.example.org");
  ASSERT_NE(msa, std::string::npos);
  EXPECT_LT(mda, net);
  EXPECT_LT(net, org);
  EXPECT_LT(org, msa);
  EXPECT_EQ(text.rfind("Return-Path: <alice@example.org>", 0), 0u);
  // Halfway, before the greylisted retry: two hops so far.
  const auto& wait = first(events, sim::EventKind::kQueueWait, "mx.example.org");
  p.seek_event(after(events, wait));
  EXPECT_EQ(p.state().messages().begin()->second.added.size(), 2u);
}


// Every lesson of the library plays in the visualizer's model: the layout
// places every host, and stepping to the end and back is consistent.
class LibraryPlaybackTest : public ::testing::TestWithParam<std::string> {};

TEST_P(LibraryPlaybackTest, OpensPlaysAndStepsBack) {
  const auto events = trace_of(GetParam());
  ASSERT_FALSE(events.empty());
  Playback p(events);
  p.seek_event(events.size());
  for (const auto& [host, h] : p.state().hosts()) EXPECT_NE(p.topology().find(host), nullptr) << host;
  const WorldState end = p.state();
  p.step_back();
  p.step_forward();
  EXPECT_EQ(p.state(), end);
}

std::vector<std::string> library() {
  std::vector<std::string> out;
  for (const auto& f : std::filesystem::directory_iterator(SMTPLAB_LIBRARY_DIR)) {
    if (f.path().extension() == ".yaml") out.push_back(f.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

INSTANTIATE_TEST_SUITE_P(Library, LibraryPlaybackTest, ::testing::ValuesIn(library()), [](const auto& info) {
  std::string name = info.param.substr(0, info.param.find('.'));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
});


// A run that arrives in pieces (a followed file, a live stream) ends in the
// same place as the whole run at once, and stepping back still replays right.
TEST(PlaybackTest, AppendingInPiecesEqualsTheWholeRun) {
  const auto events = trace_of("queue-lifetime.yaml");  // long enough for several snapshots
  Playback whole(events);
  Playback live(std::vector<sim::TraceEvent>(events.begin(), events.begin() + 10));
  live.set_live(true);
  for (std::size_t at = 10; at < events.size(); at += 97) {
    const std::size_t end = std::min(events.size(), at + 97);
    live.append(std::vector<sim::TraceEvent>(events.begin() + at, events.begin() + end));
  }
  ASSERT_EQ(live.events().size(), events.size());
  EXPECT_DOUBLE_EQ(live.length(), whole.length());
  EXPECT_EQ(live.journeys().segments().size(), whole.journeys().segments().size());
  live.seek_event(events.size());
  whole.seek_event(events.size());
  EXPECT_EQ(live.state(), whole.state());
  live.seek_event(events.size() / 3);
  EXPECT_EQ(live.state(), replay(events, events.size() / 3));
}

// Live: playing waits at the end for more instead of stopping, and a host
// the user dragged keeps its place when the layout grows.
TEST(PlaybackTest, LivePlaybackWaitsForMoreAndKeepsDraggedHosts) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(std::vector<sim::TraceEvent>(events.begin(), events.begin() + 5));
  p.set_live(true);
  p.topology().move("laptop.example.org", 0.2f, 0.9f);
  p.play();
  for (int i = 0; i < 100; ++i) p.tick(0.5);
  EXPECT_TRUE(p.playing());
  EXPECT_EQ(p.cursor(), 5u);
  p.append(std::vector<sim::TraceEvent>(events.begin() + 5, events.end()));
  for (int i = 0; i < 1000; ++i) p.tick(0.5);
  EXPECT_EQ(p.cursor(), events.size());
  const NodePlace* laptop = p.topology().find("laptop.example.org");
  ASSERT_NE(laptop, nullptr);
  EXPECT_FLOAT_EQ(laptop->x, 0.2f);
  EXPECT_FLOAT_EQ(laptop->y, 0.9f);
  EXPECT_NE(p.topology().find("mail.example.net"), nullptr);  // hosts that appeared later are placed
}


// The inspector's per-recipient status names where the message is: while
// mx.example.org holds it deferred, not "relayed" by the MSA before it.
TEST(PlaybackTest, RecipientStatusNamesTheHostHoldingTheMessage) {
  const auto events = trace_of("greylisting.yaml");
  Playback p(events);
  const auto& wait = first(events, sim::EventKind::kQueueWait, "mx.example.org");
  p.seek_event(after(events, wait));
  const auto& m = p.state().messages().begin()->second;
  EXPECT_EQ(m.recipients.at("bob@example.net"), "deferred at mx.example.org");
  p.seek_event(events.size());
  EXPECT_EQ(p.state().messages().begin()->second.recipients.at("bob@example.net"),
            "delivered into a mailbox at mail.example.net");
}

}  // namespace
}  // namespace smtplab::viz
