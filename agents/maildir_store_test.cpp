#include "agents/maildir_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

namespace smtplab::agents {
namespace {

namespace fs = std::filesystem;

class MaildirStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("smtplab_maildir_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST_F(MaildirStoreTest, DeliversIntoNewWithExactBytes) {
  auto store = MaildirStore::open({.root = root_.string(), .fsync = true, .hostname = "h"});
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string body("line\r\n\x00binary\xff\r\n", 15);
  auto name = (*store)->deliver("Return-Path: <a@b>\r\n", body);
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_TRUE(fs::exists(root_ / "cur"));
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
  EXPECT_EQ(read_file(root_ / "new" / *name), "Return-Path: <a@b>\r\n" + body);
  EXPECT_EQ(name->substr(name->size() - 2), ".h");
}

TEST_F(MaildirStoreTest, NamesAreUnique) {
  auto store = MaildirStore::open({.root = root_.string(), .fsync = false});
  ASSERT_TRUE(store.ok());
  std::set<std::string> names;
  for (int i = 0; i < 200; ++i) names.insert((*store)->deliver("", "x").value());
  EXPECT_EQ(names.size(), 200u);
}

// Maildir's convention: the host part of a name cannot hold '/' (a path
// separator) or ':' (the info separator, as in ":2,S"); they are written
// \057 and \072, so --hostname a/b:c still stores every message.
TEST_F(MaildirStoreTest, HostNameIsMadeSafeForAFileName) {
  auto store = MaildirStore::open({.root = root_.string(), .fsync = false, .hostname = "a/b:c.example"});
  ASSERT_TRUE(store.ok());
  auto name = (*store)->deliver("", "x");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(name->substr(name->find('.', name->find('Q'))), ".a\\057b\\072c.example");
  EXPECT_TRUE(fs::exists(root_ / "new" / *name));
  EXPECT_EQ(name->find(':'), std::string::npos);
}

// A message written part by part: small parts wait in memory (no file until
// there is more than the buffer), then the tmp/ file takes the text as it
// comes, and commit() moves it into new/ with every byte in order.
TEST_F(MaildirStoreTest, DeliveryWritesLargeTextAsItArrives) {
  auto store = MaildirStore::open({.root = root_.string(), .fsync = true, .hostname = "h"});
  ASSERT_TRUE(store.ok());
  auto delivery = (*store)->begin((*store)->next_unique());
  delivery->write("Return-Path: <a@b>\r\n");
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));  // still in memory
  std::string expected = "Return-Path: <a@b>\r\n";
  for (int i = 0; i < 100; ++i) {
    const std::string part(16 * 1024, static_cast<char>('a' + i % 26));
    delivery->write(part);
    expected += part;
  }
  ASSERT_FALSE(fs::is_empty(root_ / "tmp"));
  const auto in_tmp = fs::directory_iterator(root_ / "tmp")->path();
  EXPECT_GT(fs::file_size(in_tmp), expected.size() - MaildirStore::Delivery::kBufferOctets - 16 * 1024);
  auto name = delivery->commit();
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
  EXPECT_EQ(read_file(root_ / "new" / *name), expected);
}

// Not committed (the message was refused, or the client went away): its
// tmp/ file is removed and nothing reaches new/.
TEST_F(MaildirStoreTest, DeliveryNotCommittedLeavesNothing) {
  auto store = MaildirStore::open({.root = root_.string(), .fsync = false});
  ASSERT_TRUE(store.ok());
  {
    auto delivery = (*store)->begin((*store)->next_unique());
    delivery->write(std::string(200 * 1024, 'x'));
    EXPECT_FALSE(fs::is_empty(root_ / "tmp"));
  }
  EXPECT_TRUE(fs::is_empty(root_ / "tmp"));
  EXPECT_TRUE(fs::is_empty(root_ / "new"));
}

TEST_F(MaildirStoreTest, FailureIsReportedNotHidden) {
  auto store = MaildirStore::open({.root = root_.string()});
  ASSERT_TRUE(store.ok());
  fs::remove_all(root_);
  auto name = (*store)->deliver("", "x");
  EXPECT_FALSE(name.ok());
}

}  // namespace
}  // namespace smtplab::agents
