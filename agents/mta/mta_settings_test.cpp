#include "agents/mta/mta_settings.hpp"

#include <gtest/gtest.h>

namespace smtplab::agents {
namespace {

// RFC 5321 2.4: domain names are not case sensitive, whichever way the
// setting or the address spells them.
TEST(MtaSettingsTest, DomainsMatchWithoutRegardToCase) {
  MtaSettings s;
  s.local_domains = {"Example.NET"};
  s.relay_domains = {"backup.example.org"};
  EXPECT_TRUE(s.is_local_domain("example.net"));
  EXPECT_TRUE(s.is_local_domain("EXAMPLE.net"));
  EXPECT_FALSE(s.is_local_domain("example.org"));
  EXPECT_FALSE(s.is_local_domain("mail.example.net"));  // a subdomain is another domain
  EXPECT_TRUE(s.is_relay_domain("Backup.Example.Org"));
  EXPECT_FALSE(s.is_relay_domain("example.net"));
}

}  // namespace
}  // namespace smtplab::agents
