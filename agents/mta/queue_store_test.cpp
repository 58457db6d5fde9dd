// The MTA's queue survives restarts and kills: what was acknowledged with 250
// is on disk, and a new MTA on the same spool carries on with it.
#include "agents/mta/queue_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "agents/audit/delivery_audit.hpp"
#include "agents/testing/mail_world.hpp"

namespace smtplab::agents {
namespace {

namespace fs = std::filesystem;

class QueueStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("smtplab_spool_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(QueueStoreTest, RoundTripKeepsEnvelopeStateAndBytes) {
  auto spool = SpoolDirectory::open(dir_).value();
  QueuedMessage m;
  m.id = "Q000042";
  m.message_id = "x@y";
  m.reverse_path = smtp::parse_path("<a@b.example>").value();
  m.params.body = smtp::BodyType::k8BitMime;
  m.params.envid = "env 1";
  m.recipients.push_back({smtp::parse_path("<c@d.example>").value(), {}});
  m.recipients[0].params.notify = {"FAILURE"};
  m.recipients.push_back({smtp::parse_path("<e@f.example>").value(), {}});
  m.recipients[1].state = QueuedRecipient::State::kBounced;
  m.recipients[1].last_reply = smtp::make_reply(550, "5.1.1", "User unknown");
  m.recipients[1].last_host = "mx.f.example";
  m.content = std::string("Subject: x\r\n\r\n\xff\x00 binary\r\n", 26);
  m.attempts = 3;
  const absl::Time arrival = absl::FromUnixSeconds(1700000000);
  ASSERT_TRUE(spool->save(m, arrival).ok());
  auto loaded = spool->load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  const QueuedMessage& back = (*loaded)[0].message;
  EXPECT_EQ((*loaded)[0].arrival, arrival);
  EXPECT_EQ(back.id, m.id);
  EXPECT_EQ(back.reverse_path, m.reverse_path);
  EXPECT_EQ(back.params, m.params);
  EXPECT_EQ(back.recipients[0].params.notify, m.recipients[0].params.notify);
  EXPECT_EQ(back.recipients[1].state, QueuedRecipient::State::kBounced);
  EXPECT_EQ(back.recipients[1].last_reply, m.recipients[1].last_reply);
  EXPECT_EQ(back.content, m.content);
  EXPECT_EQ(back.attempts, 3);
  ASSERT_TRUE(spool->remove("Q000042").ok());
  EXPECT_TRUE(spool->load()->empty());
}

// An MTA restarted on its spool resumes the queue and delivers (in virtual time).
TEST_F(QueueStoreTest, RestartedMtaResumesItsQueue) {
  testing::MailWorld w;
  auto spool = SpoolDirectory::open(dir_).value();
  // Replace mx.example.org with one that keeps a spool.
  MtaSettings settings = w.org_mx->settings();
  w.network.stop_listening("mx.example.org", 25);
  w.org_mx = std::make_unique<Mta>(w.context("mx.example.org"), settings);
  w.org_mx->use_store(*spool);
  ASSERT_TRUE(w.org_mx->start().ok());
  w.network.set_host_up("mx1.example.net", false);
  w.network.set_host_up("mx2.example.net", false);
  w.send({"bob@example.net"});
  w.run_for(absl::Minutes(30));
  ASSERT_EQ(w.org_mx->queue().size(), 1u);
  ASSERT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);

  // The process dies; a new one starts on the same spool.
  w.network.stop_listening("mx.example.org", 25);
  w.org_mx = std::make_unique<Mta>(w.context("mx.example.org"), settings);
  w.org_mx->use_store(*spool);
  ASSERT_TRUE(w.org_mx->start().ok());
  EXPECT_EQ(w.org_mx->queue().size(), 1u);
  w.network.set_host_up("mx1.example.net", true);
  w.run();
  EXPECT_EQ(w.net_mda->mailbox("bob").size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_));
  const AuditReport audit = audit_deliveries(w.trace.events(), true);
  EXPECT_TRUE(audit.ok()) << audit.summary() << (audit.problems.empty() ? "" : "\n" + audit.problems[0]);
}

// SIGKILL right after the 250: the message is on disk (fsync before the reply).
TEST_F(QueueStoreTest, KillAfter250LosesNothing) {
  int to_parent[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The MTA under test: final destination for example.net, whose MDA is
    // unreachable, so everything it accepts stays in its queue.
    ::close(to_parent[0]);
    sim::LoopbackRuntime runtime;
    sim::LoopbackNetwork network(runtime);
    sim::SimDns dns(runtime.clock(), nullptr);
    (void)network.add_host("mx.example.net", "198.51.100.25");
    auto spool = SpoolDirectory::open(dir_).value();
    MtaSettings settings;
    settings.local_domains = {"example.net"};
    settings.mda_host = "mail.example.net";
    settings.mda_address = "198.51.100.30";  // nobody there
    Mta mta(HostContext{"mx.example.net", "198.51.100.25", runtime.clock(), network, &dns, nullptr, nullptr}, settings);
    mta.use_store(*spool);
    if (!mta.start().ok()) std::_Exit(2);
    const int port = network.real_endpoint("mx.example.net", 25).second;
    if (::write(to_parent[1], &port, sizeof port) != sizeof port) std::_Exit(3);
    // Bounded even if the parent never kills us.
    runtime.clock().schedule(absl::Seconds(30), [&] { runtime.stop(); });
    runtime.run();
    std::_Exit(0);
  }
  ::close(to_parent[1]);
  int port = 0;
  ASSERT_EQ(::read(to_parent[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  ::close(to_parent[0]);

  smtp::ClientSession session({.helo_domain = "client.example"});
  smtp::OutgoingMessage m;
  m.reverse_path = smtp::parse_path("<a@example.org>").value();
  m.recipients.push_back({smtp::parse_path("<bob@example.net>").value(), {}});
  m.content = "Subject: survive\r\n\r\nplease\r\n";
  session.enqueue(m);
  // No QUIT: kill the server the moment the 250 arrives.
  sim::LoopbackRuntime client;
  client.connect("127.0.0.10", port,
                 std::make_unique<SmtpClientEndpoint>(session, ClientTimeouts{}, [&](std::string_view) { client.stop(); }),
                 absl::Seconds(10));
  std::function<void()> watch = [&] {
    if (!session.results()[0].done) {
      client.clock().schedule(absl::Milliseconds(1), watch);
      return;
    }
    ::kill(child, SIGKILL);
    client.stop();
  };
  client.clock().schedule(absl::Milliseconds(1), watch);
  client.run();
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(session.results()[0].accepted());
  ASSERT_TRUE(WIFSIGNALED(status));

  auto spool = SpoolDirectory::open(dir_).value();
  auto loaded = spool->load();
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_NE((*loaded)[0].message.content.find("Subject: survive\r\n\r\nplease\r\n"), std::string::npos);
  EXPECT_EQ((*loaded)[0].message.recipients[0].path.mailbox.to_string(), "bob@example.net");
}

}  // namespace
}  // namespace smtplab::agents
