// ChecksumCache: stored sums while the file keeps its identity, and the per-folder snapshots a
// listing reads (Members): shared by listings while nothing changes, dropped when this cache
// stores sums in the folder or finds a row the snapshot lacks, bounded by the row budget.
#include "storage/checksum_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "storage/database.h"
#include "storage/file_checksummer.h"
#include "storage/memory_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"

namespace keepdav::storage {
namespace {

// The SQLite store, counting the folder reads a listing makes.
class CountingStore : public ChecksumStore {
 public:
  explicit CountingStore(ChecksumStore& inner) : inner_(inner) {}
  Result<FileChecksums> Get(const ResourcePath& path, const FileIdentity& identity) override {
    ++gets;
    return inner_.Get(path, identity);
  }
  Status Put(const ResourcePath& path, const FileIdentity& identity,
             const FileChecksums& sums) override {
    return inner_.Put(path, identity, sums);
  }
  Status ForEachInMembers(const ResourcePath& dir,
                          const std::function<void(std::string_view, const FileIdentity&,
                                                   const FileChecksums&)>& visit) override {
    ++folder_reads;
    Status s = inner_.ForEachInMembers(dir, visit);
    if (after_folder_read) std::exchange(after_folder_read, nullptr)();
    return s;
  }
  Status DeleteTree(const ResourcePath& path) override { return inner_.DeleteTree(path); }
  Status MoveTree(const ResourcePath& from, const ResourcePath& to) override {
    return inner_.MoveTree(from, to);
  }
  int gets = 0;
  int folder_reads = 0;
  std::function<void()> after_folder_read;  // once, right after the next folder read

 private:
  ChecksumStore& inner_;
};

ResourcePath P(const char* s) {
  return ResourcePath::Parse(s).value();
}

class ChecksumCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    sqlite_ = std::make_unique<SqliteChecksumStore>(*db_);
    store_ = std::make_unique<CountingStore>(*sqlite_);
    ASSERT_TRUE(fs_.MakeDirectory(P("/d")).ok());
    ASSERT_TRUE(fs_.MakeDirectory(P("/e")).ok());
  }

  void Write(const char* path, const std::string& content) {
    auto w = fs_.BeginWrite(P(path));
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w.value()->Write(content.data(), content.size()).ok());
    ASSERT_TRUE(w.value()->Commit().ok());
  }

  FileInfo Info(const char* path) {
    auto info = fs_.Stat(P(path));
    EXPECT_TRUE(info.ok());
    return info.ok() ? info.value() : FileInfo();
  }

  // Computes and stores the sums of `path` through `cache`.
  FileChecksums Sum(ChecksumCache& cache, const char* path) {
    auto sums = cache.Get(P(path), Info(path));
    EXPECT_TRUE(sums.ok()) << sums.status().ToString();
    return sums.ok() ? sums.value() : FileChecksums();
  }

  MemoryFileSystem fs_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqliteChecksumStore> sqlite_;
  std::unique_ptr<CountingStore> store_;
};

TEST_F(ChecksumCacheTest, ListingsShareOneFolderReadWhileNothingChanges) {
  ChecksumCache cache(fs_, *store_, 100);
  Write("/d/a", "alpha");
  Write("/d/b", "beta");
  const FileChecksums a = Sum(cache, "/d/a");
  Sum(cache, "/d/b");
  for (int i = 0; i < 3; ++i) {
    auto members = cache.Members(P("/d"));
    ASSERT_TRUE(members.ok());
    EXPECT_EQ(members.value()->size(), 2u);
    const FileChecksums* found = members.value()->Find(IdentityOf(Info("/d/a")));
    ASSERT_NE(found, nullptr);
    EXPECT_EQ(*found, a);
  }
  EXPECT_EQ(store_->folder_reads, 1);
}

TEST_F(ChecksumCacheTest, AFileChangedSinceHasNoRowInTheSnapshot) {
  ChecksumCache cache(fs_, *store_, 100);
  Write("/d/a", "alpha");
  Sum(cache, "/d/a");
  auto before = cache.Members(P("/d"));
  ASSERT_TRUE(before.ok());
  Write("/d/a", "changed outside the cache");
  EXPECT_EQ(before.value()->Find(IdentityOf(Info("/d/a"))), nullptr);
  // Asked for them, the cache computes the new sums and drops the folder's snapshot.
  EXPECT_EQ(Sum(cache, "/d/a").sha1, "96394941bc3f8f399c74517850306a332356f7b8");
  auto after = cache.Members(P("/d"));
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(store_->folder_reads, 2);
  ASSERT_NE(after.value()->Find(IdentityOf(Info("/d/a"))), nullptr);
}

TEST_F(ChecksumCacheTest, ARowStoredBehindItsBackIsFoundAndRefreshesTheSnapshot) {
  ChecksumCache cache(fs_, *store_, 100);
  Write("/d/a", "alpha");
  Write("/d/b", "beta");
  Sum(cache, "/d/a");
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  // Another instance on the same database (or a COPY through the store) stores /d/b's sums.
  ChecksumCache other(fs_, *sqlite_, 0);
  const FileChecksums b = Sum(other, "/d/b");
  auto stale = cache.Members(P("/d"));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.value()->Find(IdentityOf(Info("/d/b"))), nullptr);
  EXPECT_EQ(store_->folder_reads, 1);
  // The listing falls back to Stored(), which finds the row: no read of the file, and the
  // next listing reads the folder again.
  auto stored = cache.Stored(P("/d/b"), Info("/d/b"));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored.value(), b);
  auto fresh = cache.Members(P("/d"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(store_->folder_reads, 2);
  ASSERT_NE(fresh.value()->Find(IdentityOf(Info("/d/b"))), nullptr);
  // A row the snapshot has does not drop it.
  ASSERT_TRUE(cache.Stored(P("/d/b"), Info("/d/b")).ok());
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 2);
}

TEST_F(ChecksumCacheTest, ASnapshotReadWhileARowIsStoredIsNotKept) {
  ChecksumCache cache(fs_, *store_, 100);
  Write("/d/a", "alpha");
  Write("/d/b", "beta");
  Sum(cache, "/d/a");
  // Another request stores /d/b's sums after this listing's read and before it keeps the result.
  store_->after_folder_read = [&] { Sum(cache, "/d/b"); };
  auto racing = cache.Members(P("/d"));
  ASSERT_TRUE(racing.ok());
  EXPECT_EQ(racing.value()->size(), 1u);
  auto next = cache.Members(P("/d"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(store_->folder_reads, 2);
  EXPECT_EQ(next.value()->size(), 2u);
}

TEST_F(ChecksumCacheTest, RememberDropsTheFolderSnapshot) {
  ChecksumCache cache(fs_, *store_, 100);
  Write("/d/a", "alpha");
  Write("/d/c", "copied");
  const FileChecksums a = Sum(cache, "/d/a");
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  ASSERT_TRUE(cache.Remember(P("/d/c"), a).ok());
  auto members = cache.Members(P("/d"));
  ASSERT_TRUE(members.ok());
  EXPECT_EQ(store_->folder_reads, 2);
  EXPECT_EQ(members.value()->size(), 2u);
}

TEST_F(ChecksumCacheTest, TreeOperationsDropTheSnapshotsOfTheFoldersTheyChange) {
  ChecksumCache cache(fs_, *store_, 100);
  ASSERT_TRUE(fs_.MakeDirectory(P("/d/sub")).ok());
  Write("/d/sub/a", "alpha");
  Write("/e/b", "beta");
  Sum(cache, "/d/sub/a");
  Sum(cache, "/e/b");
  ASSERT_TRUE(cache.Members(P("/d/sub")).ok());
  ASSERT_TRUE(cache.Members(P("/e")).ok());
  EXPECT_EQ(store_->folder_reads, 2);
  // A MOVE of /d/sub onto /e/sub: the rows go with it, and /e/sub's listing must see them.
  ASSERT_TRUE(cache.MoveTree(P("/d/sub"), P("/e/sub")).ok());
  ASSERT_TRUE(cache.Members(P("/d/sub")).ok());
  EXPECT_EQ(store_->folder_reads, 3);
  auto moved = cache.Members(P("/e/sub"));
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved.value()->size(), 1u);
  EXPECT_EQ(store_->folder_reads, 4);
  ASSERT_TRUE(cache.Members(P("/e")).ok());  // /e/sub's folder: its members changed
  EXPECT_EQ(store_->folder_reads, 5);
  ASSERT_TRUE(cache.Members(P("/e")).ok());
  EXPECT_EQ(store_->folder_reads, 5);
  ASSERT_TRUE(cache.DeleteTree(P("/e/b")).ok());
  auto e = cache.Members(P("/e"));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(store_->folder_reads, 6);
  EXPECT_EQ(e.value()->size(), 0u);
}

TEST_F(ChecksumCacheTest, TheRowBudgetBoundsWhatIsKept) {
  ChecksumCache cache(fs_, *store_, 3);
  for (const char* p : {"/d/1", "/d/2", "/e/1", "/e/2"}) {
    Write(p, p);
    Sum(cache, p);
  }
  ASSERT_TRUE(cache.Members(P("/d")).ok());  // 2 rows kept
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 1);
  ASSERT_TRUE(cache.Members(P("/e")).ok());  // 4 rows: /d, listed least recently, goes
  ASSERT_TRUE(cache.Members(P("/e")).ok());
  EXPECT_EQ(store_->folder_reads, 2);
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 3);
  // A folder larger than the whole budget is read for each listing, never kept.
  Write("/d/3", "3");
  Write("/d/4", "4");
  Sum(cache, "/d/3");
  Sum(cache, "/d/4");
  auto big = cache.Members(P("/d"));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big.value()->size(), 4u);
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 5);
}

TEST_F(ChecksumCacheTest, OnASharedDatabaseSnapshotsAreReadAgainAfterTheirAge) {
  ChecksumCache cache(fs_, *store_, 100, std::chrono::seconds(1));
  Write("/d/a", "alpha");
  Sum(cache, "/d/a");
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(cache.Members(P("/d")).ok());
  EXPECT_EQ(store_->folder_reads, 2);
}

TEST_F(ChecksumCacheTest, ZeroRowsKeepsNothing) {
  ChecksumCache cache(fs_, *store_, 0);
  Write("/d/a", "alpha");
  Sum(cache, "/d/a");
  for (int i = 0; i < 2; ++i) {
    auto members = cache.Members(P("/d"));
    ASSERT_TRUE(members.ok());
    EXPECT_EQ(members.value()->size(), 1u);
  }
  EXPECT_EQ(store_->folder_reads, 2);
}

}  // namespace
}  // namespace keepdav::storage
