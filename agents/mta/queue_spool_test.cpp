// When the spool fails: a 250 is only given for what is on disk (RFC 5321
// 6.1, 4.2.5), and a queue file that cannot be updated or removed errs
// towards a duplicate, never a loss. Every failure is in the trace.
#include <gtest/gtest.h>

#include <map>

#include "absl/strings/match.h"
#include "agents/audit/delivery_audit.hpp"
#include "agents/mta/queue_store.hpp"
#include "agents/testing/failing_queue_store.hpp"
#include "agents/testing/mail_world.hpp"

namespace smtplab::agents {
namespace {

class MtaSpoolTest : public ::testing::Test {
 protected:
  // The MTA `mta` on `host` (re)starts with its queue in `store_`.
  void use_failing_store(std::unique_ptr<Mta>& mta, const std::string& host) {
    MtaSettings settings = mta->settings();
    w_.network.stop_listening(host, 25);
    mta = std::make_unique<Mta>(w_.context(host), settings);
    mta->use_store(store_);
    ASSERT_TRUE(mta->start().ok());
  }
  // mx.example.org, the hop after the MSA.
  void use_failing_store() { use_failing_store(w_.org_mx, "mx.example.org"); }
  std::vector<const sim::TraceEvent*> at(const std::string& host, sim::EventKind kind) const {
    std::vector<const sim::TraceEvent*> out;
    for (const auto& e : w_.trace.events()) {
      if (e.kind == kind && e.host == host) out.push_back(&e);
    }
    return out;
  }
  std::vector<const sim::TraceEvent*> at_org_mx(sim::EventKind kind) const { return at("mx.example.org", kind); }
  void expect_nothing_lost() {
    const AuditReport audit = audit_deliveries(w_.trace.events(), true);
    EXPECT_TRUE(audit.ok()) << audit.summary() << (audit.problems.empty() ? "" : "\n" + audit.problems[0]);
  }

  testing::MailWorld w_;
  testing::FailingQueueStore store_;
};

// RFC 5321 6.1 and 4.2.5: not on disk, not accepted. The MTA answers 451,
// the MSA keeps the message and retries, and it arrives once.
TEST_F(MtaSpoolTest, WriteFailureAnswers451AndTheSenderKeepsTheMessage) {
  use_failing_store();
  store_.fail_saves = true;
  w_.send({"bob@example.net"});
  w_.run_for(absl::Minutes(1));
  EXPECT_TRUE(w_.org_mx->queue().empty());
  const auto errors = at_org_mx(sim::EventKind::kQueueSpoolError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(*errors[0]->detail(sim::detail_key::kOperation), "write");
  EXPECT_TRUE(absl::StrContains(errors[0]->text, "No space left on device")) << errors[0]->text;
  bool said_451 = false;
  for (const auto* e : at_org_mx(sim::EventKind::kSmtpReply)) said_451 |= absl::StartsWith(e->text, "451 4.3.0");
  EXPECT_TRUE(said_451);
  EXPECT_TRUE(w_.net_mda->mailbox("bob").empty());

  store_.fail_saves = false;  // the disk has room again
  w_.run();
  EXPECT_EQ(w_.net_mda->mailbox("bob").size(), 1u);
  EXPECT_TRUE(store_.files.empty());
  expect_nothing_lost();
}

// A queue file that cannot be removed is traced and removed later; until
// then a restart would deliver it again (a duplicate, not a loss).
TEST_F(MtaSpoolTest, RemoveFailureIsTracedAndTriedAgain) {
  use_failing_store();
  store_.fail_removes = 2;
  w_.send({"bob@example.net"});
  w_.run();
  EXPECT_EQ(w_.net_mda->mailbox("bob").size(), 1u);
  const auto errors = at_org_mx(sim::EventKind::kQueueSpoolError);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(*errors[0]->detail(sim::detail_key::kOperation), "remove");
  EXPECT_TRUE(absl::StrContains(errors[0]->text, "trying again in 1m")) << errors[0]->text;
  EXPECT_EQ(errors[1]->time_us - errors[0]->time_us, absl::ToInt64Microseconds(absl::Seconds(60)));
  EXPECT_TRUE(store_.files.empty()) << "the third removal works";
  expect_nothing_lost();
}

// After spool_remove_tries failures it gives up, says so, and stops its timers.
TEST_F(MtaSpoolTest, RemoveGivesUpAfterItsTries) {
  use_failing_store();
  store_.fail_removes = 1000;
  w_.send({"bob@example.net"});
  w_.run();
  const auto errors = at_org_mx(sim::EventKind::kQueueSpoolError);
  ASSERT_EQ(errors.size(), static_cast<std::size_t>(MtaSettings{}.spool_remove_tries));
  EXPECT_TRUE(absl::StrContains(errors.back()->text, "giving up")) << errors.back()->text;
  EXPECT_EQ(store_.files.size(), 1u);
}

// The bounce cannot be stored: the original's queue file keeps its older
// state (the recipient still to do), so a crash now would bounce again
// rather than lose the bounce. The bounce still goes out from memory.
// mx1.example.net bounces: its MDA knows no "nobody".
TEST_F(MtaSpoolTest, UnstoredBounceKeepsTheOriginalsQueueFile) {
  use_failing_store(w_.mx1, "mx1.example.net");
  store_.fail_bounce_saves = true;
  w_.send({"nobody@example.net"});
  w_.run();
  ASSERT_EQ(at("mx1.example.net", sim::EventKind::kQueueBounce).size(), 1u);
  const auto errors = at("mx1.example.net", sim::EventKind::kQueueSpoolError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(absl::StrContains(errors[0]->text, "a restart bounces again")) << errors[0]->text;
  ASSERT_EQ(store_.files.size(), 1u);
  const QueuedMessage& kept = store_.files.begin()->second.message;
  EXPECT_FALSE(kept.is_bounce);
  EXPECT_EQ(kept.recipients[0].state, QueuedRecipient::State::kPending);
  EXPECT_EQ(w_.org_mda->mailbox("alice").size(), 1u) << "the bounce was delivered from memory";

  // A restart on that spool tries the recipient again, and bounces again.
  store_.fail_bounce_saves = false;
  use_failing_store(w_.mx1, "mx1.example.net");
  w_.run();
  EXPECT_EQ(w_.org_mda->mailbox("alice").size(), 2u);
  EXPECT_TRUE(store_.files.empty());
}

}  // namespace
}  // namespace smtplab::agents
