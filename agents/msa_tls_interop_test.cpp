// Real mail clients against the project's MSA on loopback: swaks (--tls,
// --auth) and Python's smtplib (starttls(), login()) submit over STARTTLS
// with a certificate from a CA made in code; without TLS neither can log in
// (RFC 4954 4: AUTH is offered only inside TLS; RFC 6409: no AUTH, no mail).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agents/mta/mta.hpp"
#include "sim/tls/test_pki.hpp"
#include "sim/loopback/loopback_network.hpp"
#include "sim/loopback/loopback_runtime.hpp"

namespace smtplab::agents {
namespace {

struct CommandResult {
  int status = -1;
  std::string output;
};

// Runs a shell command that only talks to the loopback port it is given.
CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

class MsaTlsInteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("smtplab-msa-tls-", ::getpid());
    std::filesystem::create_directories(dir_);
    auto pki = tls::make_test_pki("submit.example.org");
    ASSERT_TRUE(pki.ok()) << pki.status();
    std::ofstream(dir_ / "ca.pem") << pki->root_pem;

    ASSERT_TRUE(network_.add_host("submit.example.org", "192.0.2.11").ok());
    MtaSettings msa;
    msa.agent_name = "msa";
    msa.port = 587;
    msa.submission = true;
    msa.users = {{"alice", "s3cret"}};
    msa.smarthost = "mx.example.org";  // never reached here: the message waits in the MSA's queue
    msa.endpoint.tls = pki->server_context;
    msa_ = std::make_unique<Mta>(HostContext{"submit.example.org", "192.0.2.11", runtime_.clock(), network_, nullptr,
                                             nullptr, nullptr},
                                 msa);
    ASSERT_TRUE(msa_->start().ok());
    std::tie(address_, port_) = network_.real_endpoint("submit.example.org", 587);
    server_ = std::thread([this] { runtime_.run(); });
  }

  void TearDown() override {
    stop();
    std::filesystem::remove_all(dir_);
  }

  void stop() {
    if (!server_.joinable()) return;
    runtime_.stop();
    server_.join();
  }

  // The queued messages' subjects, read once the server thread has stopped.
  std::vector<std::string> queued_subjects() {
    stop();
    std::vector<std::string> out;
    for (const auto& [id, m] : msa_->queue()) {
      const auto at = m.content.find("Subject: ");
      if (at != std::string::npos) out.push_back(m.content.substr(at + 9, m.content.find('\r', at) - at - 9));
    }
    return out;
  }

  std::string swaks(const std::string& extra) const {
    return absl::StrCat("timeout 20 swaks --server ", address_, ":", port_,
                        " --from alice@example.org --to bob@example.net --auth PLAIN --auth-user alice"
                        " --auth-password s3cret --ehlo laptop.example.org ",
                        extra);
  }

  std::string python(const std::string& body) const {
    const std::string script = absl::StrCat(
        "import smtplib, ssl, sys\n"
        "ctx = ssl.create_default_context(cafile='", (dir_ / "ca.pem").string(), "')\n",
        "ctx.check_hostname = False  # the MSA's certificate names submit.example.org, we dial an address\n",
        "s = smtplib.SMTP('", address_, "', ", port_, ", timeout=10)\n", body);
    std::ofstream(dir_ / "client.py") << script;
    return absl::StrCat("timeout 20 python3 ", (dir_ / "client.py").string());
  }

  std::filesystem::path dir_;
  sim::LoopbackRuntime runtime_;
  sim::LoopbackNetwork network_{runtime_};
  std::unique_ptr<Mta> msa_;
  std::string address_;
  int port_ = 0;
  std::thread server_;
};

TEST_F(MsaTlsInteropTest, SwaksSubmitsOverStartTlsWithAuth) {
  const auto r = run_command(swaks(absl::StrCat("--tls --tls-verify --tls-ca-path ", (dir_ / "ca.pem").string(),
                                                " --tls-sni submit.example.org --header 'Subject: from swaks'")));
  // swaks has no option for the name to verify; it checks the certificate
  // chain against the CA here, and prints the peer DN.
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("TLS started"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("235 2.7.0"), std::string::npos) << r.output;
  EXPECT_EQ(queued_subjects(), std::vector<std::string>{"from swaks"});
}

// RFC 4954 4: no AUTH before TLS, so swaks cannot log in and sends nothing.
TEST_F(MsaTlsInteropTest, SwaksWithoutTlsCannotLogIn) {
  const auto r = run_command(swaks("--header 'Subject: plaintext'"));
  EXPECT_NE(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("AUTH PLAIN"), std::string::npos) << "a password went out in plaintext:\n" << r.output;
  EXPECT_TRUE(queued_subjects().empty());
}

TEST_F(MsaTlsInteropTest, PythonSmtplibStartTlsAndLogin) {
  const auto r = run_command(python(
      "s.ehlo('laptop.example.org')\n"
      "assert not s.has_extn('auth'), 'AUTH offered before TLS'\n"
      "s.starttls(context=ctx)\n"
      "s.ehlo('laptop.example.org')\n"
      "assert not s.has_extn('starttls'), 'STARTTLS offered inside TLS'\n"
      "print('version', s.sock.version())\n"
      "s.login('alice', 's3cret')\n"
      "s.sendmail('alice@example.org', ['bob@example.net'], 'Subject: from smtplib\\r\\n\\r\\nhi\\r\\n')\n"
      "s.quit()\n"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("version TLSv1.3"), std::string::npos) << r.output;
  EXPECT_EQ(queued_subjects(), std::vector<std::string>{"from smtplib"});
}

// RFC 6409 4 / RFC 4954 6: without logging in, MAIL is refused with 530.
TEST_F(MsaTlsInteropTest, PythonWithoutLoginIsRefused) {
  const auto r = run_command(python(
      "s.starttls(context=ctx)\n"
      "try:\n"
      "    s.sendmail('alice@example.org', ['bob@example.net'], 'Subject: x\\r\\n\\r\\nhi\\r\\n')\n"
      "except smtplib.SMTPSenderRefused as e:\n"
      "    print('refused', e.smtp_code); sys.exit(0)\n"
      "sys.exit(1)\n"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("refused 530"), std::string::npos) << r.output;
  EXPECT_TRUE(queued_subjects().empty());
}

}  // namespace
}  // namespace smtplab::agents
