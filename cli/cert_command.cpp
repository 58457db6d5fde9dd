// smtplab cert: a CA and host certificates on disk, made with the same code
// that gives each scenario run its CA, so real tools (swaks, smtplib,
// aiosmtpd, smtplab sink) can be shown good and broken certificates alike.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/absl_string_view.hpp"
#include "sim/tls/certificate_authority.hpp"
#include "cli/subcommand.hpp"

ABSL_FLAG(std::string, host, "localhost", "Names the certificate is for, comma-separated (the first is the CN)");
ABSL_FLAG(std::string, out, "", "Directory to write ca.pem, cert.pem and key.pem into (created if missing); required");
ABSL_FLAG(std::string, problem, "none",
          "Break the certificate on purpose: none, expired, not_yet_valid, wrong_name, self_signed, unknown_ca");

namespace smtplab::cli {
namespace {

bool write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

int run_cert(std::vector<char*> args) {
  parse_subcommand_flags(*find_subcommand("cert"), args,
                         "smtplab cert --out DIR [--host mx.example.net,localhost] [--problem expired]\n\n"
                         "Writes DIR/ca.pem (trust this), DIR/cert.pem and DIR/key.pem (give these to the server).");
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::fprintf(stderr, "smtplab cert: --out DIR is required\n");
    return 2;
  }
  std::vector<std::string> names = absl::StrSplit(absl::GetFlag(FLAGS_host), ',', absl::SkipWhitespace());
  if (names.empty()) {
    std::fprintf(stderr, "smtplab cert: --host needs at least one name\n");
    return 2;
  }
  const absl::Time now = absl::Now();
  const absl::Duration day = absl::Hours(24);
  const std::string problem_name = absl::GetFlag(FLAGS_problem);
  const auto problem = tls::parse_certificate_problem(problem_name);
  if (!problem) {
    std::fprintf(stderr, "smtplab cert: --problem: unknown certificate problem '%s': use %s\n", problem_name.c_str(),
                 absl::StrJoin(tls::certificate_problem_names(), ", ").c_str());
    return 2;
  }
  const tls::CertificateSpec spec = tls::certificate_for(names, now, *problem, absl::StrCat("not-", names.front()));
  auto ca = tls::CertificateAuthority::create("smtplab local CA", now - 365 * day, now + 3650 * day);
  if (!ca.ok()) {
    std::fprintf(stderr, "smtplab cert: %s\n", std::string(ca.status().message()).c_str());
    return 1;
  }
  auto creds = ca->issue(spec);
  if (!creds.ok()) {
    std::fprintf(stderr, "smtplab cert: %s\n", std::string(creds.status().message()).c_str());
    return 1;
  }
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  const std::filesystem::path dir(out);
  if (ec || !write_file(dir / "ca.pem", ca->root_pem()) || !write_file(dir / "cert.pem", creds->certificate_pem) ||
      !write_file(dir / "key.pem", creds->private_key_pem)) {
    std::fprintf(stderr, "smtplab cert: cannot write into %s\n", out.c_str());
    return 1;
  }
  std::filesystem::permissions(dir / "key.pem", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               ec);
  if (ec) {
    // Still usable by its owner; say so rather than leave a readable key unremarked.
    std::fprintf(stderr, "smtplab cert: warning: cannot make %s/key.pem private: %s\n", out.c_str(), ec.message().c_str());
  }
  std::printf("%s/ca.pem    the CA to trust (swaks --tls-ca-path, smtplib cafile, smtplab send --tls_ca)\n"
              "%s/cert.pem  the certificate for %s%s\n"
              "%s/key.pem   its private key (smtplab sink --tls_cert %s/cert.pem --tls_key %s/key.pem)\n",
              out.c_str(), out.c_str(), absl::StrJoin(spec.names, ", ").c_str(),
              *problem == tls::CertificateProblem::kNone
                  ? ""
                  : absl::StrCat(" (", av(tls::certificate_problem_name(*problem)), ")").c_str(),
              out.c_str(), out.c_str(),
              out.c_str());
  return 0;
}

}  // namespace smtplab::cli
