// The ChecksumStore contract, run against every implementation (store_backends.h).
#include "storage/checksum_store.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/storage/status_printer.h"
#include "tests/storage/store_backends.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;

FileIdentity Identity(uint64_t inode) {
  FileIdentity id;
  id.inode = inode;
  id.size = 1234;
  id.mtime_ns = 1700000000123456789;
  id.ctime_ns = 1700000001987654321;
  return id;
}

// Sums whose digits name `tag` (one hex digit), so rows can be traced.
FileChecksums Sums(char tag) {
  FileChecksums s;
  s.sha1 = std::string(40, tag);
  s.md5 = std::string(32, tag);
  s.sha256 = std::string(64, tag);
  return s;
}

class ChecksumStoreTest : public test_support::StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (backend_) store_ = &backend_->checksums();
  }
  // The SHA-1's first digit of the row of `path` with Identity(inode), or '-' when none.
  char TagOf(const char* path, uint64_t inode) {
    Result<FileChecksums> got = store_->Get(P(path), Identity(inode));
    if (!got.ok()) {
      EXPECT_TRUE(got.status().IsNotFound()) << got.status().ToString();
      return '-';
    }
    return got->sha1.empty() ? '?' : got->sha1[0];
  }
  ChecksumStore* store_ = nullptr;
};

TEST_P(ChecksumStoreTest, PutThenGetWithTheSameIdentity) {
  EXPECT_EQ(store_->Get(P("/f"), Identity(1)).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Put(P("/f"), Identity(1), Sums('a')).ok());
  Result<FileChecksums> got = store_->Get(P("/f"), Identity(1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, Sums('a'));
  EXPECT_EQ(store_->Get(P("/f/child"), Identity(1)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Get(P("/other"), Identity(1)).status().code(), StatusCode::kNotFound);
}

TEST_P(ChecksumStoreTest, AnyChangeOfIdentityHidesTheSums) {
  ASSERT_TRUE(store_->Put(P("/f"), Identity(1), Sums('a')).ok());
  FileIdentity changed = Identity(1);
  changed.inode = 2;
  EXPECT_EQ(store_->Get(P("/f"), changed).status().code(), StatusCode::kNotFound);
  changed = Identity(1);
  changed.size += 1;
  EXPECT_EQ(store_->Get(P("/f"), changed).status().code(), StatusCode::kNotFound);
  changed = Identity(1);
  changed.mtime_ns += 1;  // a client set the mtime back, or an editor kept the size
  EXPECT_EQ(store_->Get(P("/f"), changed).status().code(), StatusCode::kNotFound);
  changed = Identity(1);
  changed.ctime_ns += 1;  // changed outside keepdav with the mtime restored
  EXPECT_EQ(store_->Get(P("/f"), changed).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get(P("/f"), Identity(1)).ok());
}

TEST_P(ChecksumStoreTest, PutReplacesWhateverIdentityWasStored) {
  ASSERT_TRUE(store_->Put(P("/f"), Identity(1), Sums('a')).ok());
  ASSERT_TRUE(store_->Put(P("/f"), Identity(2), Sums('b')).ok());
  EXPECT_EQ(TagOf("/f", 1), '-');
  EXPECT_EQ(TagOf("/f", 2), 'b');
  ASSERT_TRUE(store_->Put(P("/f"), Identity(2), Sums('c')).ok());
  EXPECT_EQ(TagOf("/f", 2), 'c');
}

TEST_P(ChecksumStoreTest, AbsentSumsAreEmptyAndOthersMustBeLowerCaseHex) {
  FileChecksums only_sha256;
  only_sha256.sha256 = std::string(64, 'f');
  ASSERT_TRUE(store_->Put(P("/f"), Identity(1), only_sha256).ok());
  Result<FileChecksums> got = store_->Get(P("/f"), Identity(1));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->sha1, "");
  EXPECT_EQ(got->md5, "");
  EXPECT_EQ(got->sha256, std::string(64, 'f'));

  FileChecksums bad = Sums('a');
  bad.sha1 = std::string(40, 'A');
  EXPECT_EQ(store_->Put(P("/g"), Identity(1), bad).code(), StatusCode::kInvalidArgument);
  bad = Sums('a');
  bad.md5 = std::string(31, 'a');
  EXPECT_EQ(store_->Put(P("/g"), Identity(1), bad).code(), StatusCode::kInvalidArgument);
  bad = Sums('a');
  bad.sha256 = std::string(64, 'g');
  EXPECT_EQ(store_->Put(P("/g"), Identity(1), bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TagOf("/g", 1), '-');
}

TEST_P(ChecksumStoreTest, ForEachInMembersVisitsDirectMembersOnly) {
  ASSERT_TRUE(store_->Put(P("/a"), Identity(1), Sums('1')).ok());
  ASSERT_TRUE(store_->Put(P("/a/x"), Identity(2), Sums('2')).ok());
  ASSERT_TRUE(store_->Put(P("/a/y"), Identity(3), Sums('3')).ok());
  ASSERT_TRUE(store_->Put(P("/a/y/deep"), Identity(4), Sums('4')).ok());
  ASSERT_TRUE(store_->Put(P("/ab"), Identity(5), Sums('5')).ok());
  ASSERT_TRUE(store_->Put(P("/top"), Identity(6), Sums('6')).ok());
  std::set<std::string> seen;
  ASSERT_TRUE(
      store_
          ->ForEachInMembers(
              P("/a"),
              [&](std::string_view path, const FileIdentity& id, const FileChecksums& sums) {
                seen.insert(std::string(path) + " " + std::to_string(id.inode) + " " + sums.md5[0]);
                EXPECT_EQ(id, Identity(id.inode));
              })
          .ok());
  EXPECT_EQ(seen, (std::set<std::string>{"/a/x 2 2", "/a/y 3 3"}));
  seen.clear();
  ASSERT_TRUE(store_
                  ->ForEachInMembers(ResourcePath(),
                                     [&](std::string_view path, const FileIdentity&,
                                         const FileChecksums&) { seen.insert(std::string(path)); })
                  .ok());
  EXPECT_EQ(seen, (std::set<std::string>{"/a", "/ab", "/top"}));
}

TEST_P(ChecksumStoreTest, DeleteTreeKeepsSiblingsThatShareAPrefix) {
  for (const char* p : {"/a", "/a/b", "/a/b/c", "/ab", "/a0", "/a-", "/b"}) {
    ASSERT_TRUE(store_->Put(P(p), Identity(1), Sums('1')).ok());
  }
  ASSERT_TRUE(store_->DeleteTree(P("/a")).ok());
  for (const char* gone : {"/a", "/a/b", "/a/b/c"}) EXPECT_EQ(TagOf(gone, 1), '-') << gone;
  for (const char* kept : {"/ab", "/a0", "/a-", "/b"}) EXPECT_EQ(TagOf(kept, 1), '1') << kept;
  ASSERT_TRUE(store_->DeleteTree(P("/nothing")).ok());
  ASSERT_TRUE(store_->DeleteTree(ResourcePath()).ok());
  for (const char* gone : {"/ab", "/a0", "/a-", "/b"}) EXPECT_EQ(TagOf(gone, 1), '-') << gone;
}

TEST_P(ChecksumStoreTest, MoveTreeKeepsIdentitiesAndReplacesTheDestination) {
  ASSERT_TRUE(store_->Put(P("/a"), Identity(1), Sums('1')).ok());
  ASSERT_TRUE(store_->Put(P("/a/b"), Identity(2), Sums('2')).ok());
  ASSERT_TRUE(store_->Put(P("/a/\xC3\xA4/\xff"), Identity(3), Sums('3')).ok());
  ASSERT_TRUE(store_->Put(P("/ab"), Identity(4), Sums('4')).ok());
  ASSERT_TRUE(store_->Put(P("/x/stale"), Identity(5), Sums('5')).ok());
  ASSERT_TRUE(store_->Put(P("/xy"), Identity(6), Sums('6')).ok());
  ASSERT_TRUE(store_->MoveTree(P("/a"), P("/x")).ok());
  EXPECT_EQ(TagOf("/x", 1), '1');
  EXPECT_EQ(TagOf("/x/b", 2), '2');
  EXPECT_EQ(TagOf("/x/\xC3\xA4/\xff", 3), '3');  // cut by bytes, not characters
  EXPECT_EQ(TagOf("/x/stale", 5), '-');          // the destination's own rows went
  EXPECT_EQ(TagOf("/a", 1), '-');
  EXPECT_EQ(TagOf("/a/b", 2), '-');
  EXPECT_EQ(TagOf("/ab", 4), '4');  // a sibling sharing the prefix stays
  EXPECT_EQ(TagOf("/xy", 6), '6');
  // Deeper, and back to the root's direct members.
  ASSERT_TRUE(store_->MoveTree(P("/x/b"), P("/n/e/w")).ok());
  EXPECT_EQ(TagOf("/n/e/w", 2), '2');
  ASSERT_TRUE(store_->MoveTree(P("/n/e/w"), P("/w")).ok());
  EXPECT_EQ(TagOf("/w", 2), '2');
  EXPECT_TRUE(store_->MoveTree(P("/w"), P("/w")).ok());
  EXPECT_EQ(TagOf("/w", 2), '2');
}

TEST_P(ChecksumStoreTest, OverlappingMovesAreRefused) {
  ASSERT_TRUE(store_->Put(P("/a/b"), Identity(1), Sums('1')).ok());
  EXPECT_EQ(store_->MoveTree(P("/a"), P("/a/b/c")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->MoveTree(P("/a/b"), P("/a")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->MoveTree(ResourcePath(), P("/z")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TagOf("/a/b", 1), '1');
}

TEST_P(ChecksumStoreTest, SumsSurviveAReopen) {
  if (!backend_->persistent()) GTEST_SKIP() << "the data does not outlive the store";
  ASSERT_TRUE(store_->Put(P("/f"), Identity(7), Sums('7')).ok());
  backend_->Reopen();
  store_ = &backend_->checksums();
  EXPECT_EQ(TagOf("/f", 7), '7');
}

INSTANTIATE_TEST_SUITE_P(Stores, ChecksumStoreTest,
                         ::testing::ValuesIn(test_support::AllStoreBackends()),
                         test_support::BackendName);

}  // namespace
}  // namespace keepdav::storage
