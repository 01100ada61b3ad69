// The PropertyStore contract, run against every implementation (store_backends.h), then what
// only SqlitePropertyStore promises.
#include "storage/property_store.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/postgres/pg_subtree_range.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "storage/sqlite/sqlite_subtree_range.h"
#include "storage/subtree_range.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/store_backends.h"
#include "tests/storage/temp_dir.h"
#include "tests/storage/test_files.h"

namespace keepdav::storage {
namespace {

using test_support::P;

PropertyChange Set(std::string ns, std::string local, std::string value) {
  PropertyChange c;
  c.name = {std::move(ns), std::move(local)};
  c.value = std::move(value);
  return c;
}

PropertyChange Remove(std::string ns, std::string local) {
  PropertyChange c;
  c.name = {std::move(ns), std::move(local)};
  c.remove = true;
  return c;
}

class PropertyStoreTest : public test_support::StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (backend_) store_ = &backend_->properties();
  }
  // A restart: the same data through new stores.
  void Reopen() {
    backend_->Reopen();
    store_ = &backend_->properties();
  }

  // Gives `path` one property whose value names the path, so copies can be traced.
  void Tag(const char* path) {
    ASSERT_TRUE(store_->Apply(P(path), {Set("urn:t", "origin", path)}).ok()) << path;
  }
  // "path=value" for every path below (and at) the root that carries the tag property, sorted.
  std::string Tags() {
    Result<std::vector<std::string>> paths = store_->PathsUnder(ResourcePath());
    EXPECT_TRUE(paths.ok()) << paths.status().ToString();
    std::string out;
    if (!paths.ok()) return out;
    for (const std::string& path : *paths) {
      Result<std::string> value = store_->Get(P(path), PropertyName{"urn:t", "origin"});
      if (!value.ok()) {
        EXPECT_TRUE(value.status().IsNotFound()) << value.status().ToString();
        continue;
      }
      if (!out.empty()) out += " ";
      out += path + "=" + *value;
    }
    return out;
  }

  PropertyStore* store_ = nullptr;
};

TEST_P(PropertyStoreTest, ApplyAndGetAllOrderedByNamespaceThenName) {
  ASSERT_TRUE(store_
                  ->Apply(P("/f"), {Set("urn:b", "x", "1"), Set("urn:a", "z", "2"),
                                    Set("urn:a", "y", "3"), Set("", "empty-ns", "4")})
                  .ok());
  Result<std::vector<DeadProperty>> all = store_->GetAll(P("/f"));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].name, (PropertyName{"", "empty-ns"}));
  EXPECT_EQ((*all)[1].name, (PropertyName{"urn:a", "y"}));
  EXPECT_EQ((*all)[2].name, (PropertyName{"urn:a", "z"}));
  EXPECT_EQ((*all)[3].name, (PropertyName{"urn:b", "x"}));
  EXPECT_EQ((*all)[3].value, "1");
  for (size_t i = 1; i < all->size(); ++i) EXPECT_TRUE((*all)[i - 1].name < (*all)[i].name);

  EXPECT_TRUE(store_->GetAll(P("/other"))->empty());
  EXPECT_TRUE(store_->GetAll(P("/f/child"))->empty());
}

TEST_P(PropertyStoreTest, GetSetOverwriteRemove) {
  const PropertyName name{"urn:x", "color"};
  EXPECT_EQ(store_->Get(P("/f"), name).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Apply(P("/f"), {Set("urn:x", "color", "red")}).ok());
  EXPECT_EQ(store_->Get(P("/f"), name).value(), "red");
  ASSERT_TRUE(store_->Apply(P("/f"), {Set("urn:x", "color", "blue")}).ok());
  EXPECT_EQ(store_->Get(P("/f"), name).value(), "blue");
  EXPECT_EQ(store_->GetAll(P("/f"))->size(), 1u);
  // Same local name, other namespace: a different property.
  EXPECT_EQ(store_->Get(P("/f"), PropertyName{"urn:y", "color"}).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(store_->Apply(P("/f"), {Remove("urn:x", "color")}).ok());
  EXPECT_EQ(store_->Get(P("/f"), name).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Apply(P("/f"), {Remove("urn:x", "never-set")}).ok());
  // Changes apply in order: set then remove leaves nothing; remove then set leaves the value.
  ASSERT_TRUE(store_->Apply(P("/f"), {Set("", "a", "1"), Remove("", "a")}).ok());
  EXPECT_EQ(store_->Get(P("/f"), PropertyName{"", "a"}).status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_->Apply(P("/f"), {Remove("", "b"), Set("", "b", "2")}).ok());
  EXPECT_EQ(store_->Get(P("/f"), PropertyName{"", "b"}).value(), "2");
}

TEST_P(PropertyStoreTest, ApplyIsAllOrNothing) {
  ASSERT_TRUE(store_->Apply(P("/f"), {Set("urn:x", "keep", "old")}).ok());
  Status s = store_->Apply(P("/f"), {Set("urn:x", "keep", "new"), Set("urn:x", "added", "v"),
                                     Remove("urn:x", "keep"), Set("urn:x", "", "bad")});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  Result<std::vector<DeadProperty>> all = store_->GetAll(P("/f"));
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].value, "old");
}

TEST_P(PropertyStoreTest, ValuesAreOpaqueBytes) {
  const std::string binary("\0\x01\xff\xfe<x/>\0", 9);
  const std::string xml =
      "<z:note xmlns:z=\"urn:z\" xml:lang=\"ja\">日本語 &amp; "
      "\xF0\x9F\x98\x80<b>mixed</b></z:note>";
  const std::string ns = "urn:\xC3\xA9t\xC3\xA9";
  ASSERT_TRUE(store_
                  ->Apply(P("/\xC3\xA4/f"),
                          {Set("", "bin", binary), Set(ns, "xml", xml), Set("", "empty", "")})
                  .ok());
  EXPECT_EQ(store_->Get(P("/\xC3\xA4/f"), PropertyName{"", "bin"}).value(), binary);
  EXPECT_EQ(store_->Get(P("/\xC3\xA4/f"), PropertyName{ns, "xml"}).value(), xml);
  Result<std::string> empty = store_->Get(P("/\xC3\xA4/f"), PropertyName{"", "empty"});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  if (backend_->persistent()) {
    Reopen();  // and they survive a reopen
    EXPECT_EQ(store_->Get(P("/\xC3\xA4/f"), PropertyName{"", "bin"}).value(), binary);
  }
}

TEST_P(PropertyStoreTest, DeleteTreeKeepsSiblingsThatShareAPrefix) {
  for (const char* p : {"/", "/a", "/a/b", "/a/b/c", "/ab", "/a0", "/a.b", "/a-", "/b"}) Tag(p);
  ASSERT_TRUE(store_->DeleteTree(P("/a")).ok());
  EXPECT_EQ(Tags(), "/=/ /a-=/a- /a.b=/a.b /a0=/a0 /ab=/ab /b=/b");
  ASSERT_TRUE(store_->DeleteTree(P("/nothing")).ok());
  ASSERT_TRUE(store_->DeleteTree(ResourcePath()).ok());
  EXPECT_EQ(Tags(), "");
}

// ApplyUnlessLocked reads the lock rows of the same database: a lock rooted at the path, or a
// depth-infinity one on an ancestor, refuses the write (false, nothing changed), for one change
// and for several, set and remove; a depth-0 lock on an ancestor, an expired lock or a lock
// elsewhere does not.
TEST_P(PropertyStoreTest, ApplyUnlessLockedHonoursCoveringLocks) {
  const int64_t now = 1800000000;
  auto lock = [&](const char* token, const char* root, bool infinite, int64_t expires_at) {
    LockRecord l;
    l.token = token;
    l.root = P(root);
    l.infinite_depth = infinite;
    l.exclusive = true;
    l.timeout_s = 600;
    l.expires_at = expires_at;
    ASSERT_TRUE(backend_->locks().Insert(l).ok()) << token;
  };
  const PropertyName color{"urn:x", "color"};
  auto applied = [&](const char* path, std::vector<PropertyChange> changes) {
    Result<bool> r = store_->ApplyUnlessLocked(P(path), changes, now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  // No locks at all.
  EXPECT_TRUE(applied("/d/f", {Set("urn:x", "color", "red")}));
  EXPECT_EQ(store_->Get(P("/d/f"), color).value(), "red");
  // A depth-0 lock on the parent, an expired one on the file, one on a sibling: not covering.
  lock("urn:uuid:parent-0", "/d", false, now + 600);
  lock("urn:uuid:expired", "/d/f", false, now);
  lock("urn:uuid:sibling", "/d/g", true, now + 600);
  EXPECT_TRUE(applied("/d/f", {Set("urn:x", "color", "blue")}));
  EXPECT_TRUE(applied("/d/f", {Set("urn:x", "a", "1"), Set("urn:x", "b", "2")}));
  EXPECT_EQ(store_->Get(P("/d/f"), color).value(), "blue");
  // The file's own lock: refused, one change or several, set or remove.
  lock("urn:uuid:own", "/d/f", false, now + 600);
  EXPECT_FALSE(applied("/d/f", {Set("urn:x", "color", "green")}));
  EXPECT_FALSE(applied("/d/f", {Remove("urn:x", "color")}));
  EXPECT_FALSE(applied("/d/f", {Set("urn:x", "color", "green"), Remove("urn:x", "a")}));
  EXPECT_EQ(store_->Get(P("/d/f"), color).value(), "blue");
  EXPECT_EQ(store_->GetAll(P("/d/f"))->size(), 3u);
  // A depth-infinity lock on an ancestor covers members at any depth.
  lock("urn:uuid:deep", "/e", true, now + 600);
  EXPECT_FALSE(applied("/e/x/y", {Set("urn:x", "color", "red")}));
  EXPECT_TRUE(store_->GetAll(P("/e/x/y"))->empty());
  // The root's depth-infinity lock covers everything, the root included.
  lock("urn:uuid:root", "/", true, now + 600);
  EXPECT_FALSE(applied("/", {Set("urn:x", "color", "red")}));
  EXPECT_FALSE(applied("/h", {Remove("urn:x", "color")}));
  // Once the locks are gone, the same write goes ahead.
  ASSERT_TRUE(backend_->locks().DeleteTree(P("/"), false).ok());
  EXPECT_TRUE(applied("/d/f", {Remove("urn:x", "color")}));
  EXPECT_EQ(store_->Get(P("/d/f"), color).status().code(), StatusCode::kNotFound);
  // An empty name is still refused before anything is written.
  Result<bool> bad = store_->ApplyUnlessLocked(P("/d/f"), {Set("urn:x", "", "v")}, now);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(PropertyStoreTest, CopyTree) {
  for (const char* p : {"/a", "/a/b", "/a/b/c", "/ab", "/a0", "/x/stale", "/x", "/xy"}) Tag(p);
  ASSERT_TRUE(store_->Apply(P("/a/b"), {Set("", "second", "2")}).ok());
  ASSERT_TRUE(store_->CopyTree(P("/a"), P("/x")).ok());
  // Destination subtree replaced ("/x/stale" gone), "/xy" untouched, source intact.
  EXPECT_EQ(Tags(),
            "/a=/a /a/b=/a/b /a/b/c=/a/b/c /a0=/a0 /ab=/ab /x=/a /x/b=/a/b /x/b/c=/a/b/c "
            "/xy=/xy");
  EXPECT_EQ(store_->GetAll(P("/x/b"))->size(), 2u);

  // Into a deeper, new place, and a single leaf.
  ASSERT_TRUE(store_->CopyTree(P("/a/b"), P("/n/e/w")).ok());
  EXPECT_EQ(store_->Get(P("/n/e/w/c"), PropertyName{"urn:t", "origin"}).value(), "/a/b/c");
  ASSERT_TRUE(store_->CopyTree(P("/a/b/c"), P("/leaf")).ok());
  EXPECT_EQ(store_->Get(P("/leaf"), PropertyName{"urn:t", "origin"}).value(), "/a/b/c");
  // Copying something without properties clears the destination.
  ASSERT_TRUE(store_->CopyTree(P("/bare"), P("/leaf")).ok());
  EXPECT_TRUE(store_->GetAll(P("/leaf"))->empty());
}

TEST_P(PropertyStoreTest, CopyTreeRewritesNonAsciiPathsByteForByte) {
  // "\xff" is not UTF-8: character-counting SQL functions would miscount it.
  for (const char* p : {"/\xC3\xA4", "/\xC3\xA4/\xC3\x9F", "/\xC3\xA4/\xff\xfe/x"}) Tag(p);
  ASSERT_TRUE(store_->CopyTree(P("/\xC3\xA4"), P("/\xE6\x97\xA5/o")).ok());
  EXPECT_EQ(store_->Get(P("/\xE6\x97\xA5/o/\xC3\x9F"), PropertyName{"urn:t", "origin"}).value(),
            "/\xC3\xA4/\xC3\x9F");
  EXPECT_EQ(store_->Get(P("/\xE6\x97\xA5/o/\xff\xfe/x"), PropertyName{"urn:t", "origin"}).value(),
            "/\xC3\xA4/\xff\xfe/x");
  ASSERT_TRUE(store_->CopyTree(P("/\xC3\xA4/\xff\xfe"), P("/y")).ok());
  EXPECT_EQ(store_->Get(P("/y/x"), PropertyName{"urn:t", "origin"}).value(),
            "/\xC3\xA4/\xff\xfe/x");
}

TEST_P(PropertyStoreTest, MoveTree) {
  for (const char* p : {"/a", "/a/b", "/ab", "/a0", "/x/old"}) Tag(p);
  ASSERT_TRUE(store_->MoveTree(P("/a"), P("/x")).ok());
  EXPECT_EQ(Tags(), "/a0=/a0 /ab=/ab /x=/a /x/b=/a/b");
  ASSERT_TRUE(store_->MoveTree(P("/x/b"), P("/b")).ok());
  EXPECT_EQ(Tags(), "/a0=/a0 /ab=/ab /b=/a/b /x=/a");
  EXPECT_TRUE(store_->MoveTree(P("/b"), P("/b")).ok());
  EXPECT_EQ(Tags(), "/a0=/a0 /ab=/ab /b=/a/b /x=/a");
}

TEST_P(PropertyStoreTest, OverlappingTreesAreRefused) {
  for (const char* p : {"/a", "/a/b"}) Tag(p);
  EXPECT_EQ(store_->CopyTree(P("/a"), P("/a/b/c")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->CopyTree(P("/a/b"), P("/a")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->MoveTree(P("/a"), P("/a/c")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->MoveTree(ResourcePath(), P("/z")).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->CopyTree(P("/a"), P("/a")).ok());
  EXPECT_EQ(Tags(), "/a=/a /a/b=/a/b");
  // "/ab" is not inside "/a".
  EXPECT_TRUE(store_->CopyTree(P("/a"), P("/ab")).ok());
}

TEST_P(PropertyStoreTest, ForEachInMembersVisitsDirectMembersGroupedByPath) {
  for (const char* p : {"/", "/a", "/a/c", "/a/b", "/a/b/deep", "/ab", "/a0", "/a/b0"}) Tag(p);
  ASSERT_TRUE(store_->Apply(P("/a/b"), {Set("", "z", "1"), Set("urn:a", "a", "2")}).ok());

  std::vector<std::pair<std::string, std::string>> seen;
  auto collect = [&](std::string_view member, const DeadProperty& p) {
    seen.emplace_back(std::string(member), p.name.ns + "|" + p.name.local);
  };
  ASSERT_TRUE(store_->ForEachInMembers(P("/a"), collect).ok());
  const std::vector<std::pair<std::string, std::string>> expected = {{"/a/b", "|z"},
                                                                     {"/a/b", "urn:a|a"},
                                                                     {"/a/b", "urn:t|origin"},
                                                                     {"/a/b0", "urn:t|origin"},
                                                                     {"/a/c", "urn:t|origin"}};
  EXPECT_EQ(seen, expected);

  seen.clear();
  ASSERT_TRUE(store_->ForEachInMembers(ResourcePath(), collect).ok());
  const std::vector<std::pair<std::string, std::string>> root_expected = {
      {"/a", "urn:t|origin"}, {"/a0", "urn:t|origin"}, {"/ab", "urn:t|origin"}};
  EXPECT_EQ(seen, root_expected);

  seen.clear();
  ASSERT_TRUE(store_->ForEachInMembers(P("/a/c"), collect).ok());
  EXPECT_TRUE(seen.empty());
}

TEST_P(PropertyStoreTest, ConcurrentWritersAndReaders) {
  constexpr int kThreads = 4;
  constexpr int kEach = 30;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        ResourcePath p = P("/t" + std::to_string(t) + "/" + std::to_string(i));
        EXPECT_TRUE(store_->Apply(p, {Set("", "n", std::to_string(i))}).ok());
        EXPECT_TRUE(store_->GetAll(p).ok());
        EXPECT_TRUE(store_->ForEachInMembers(p.Parent(), [](auto, const auto&) {}).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  int count = 0;
  ASSERT_TRUE(store_->ForEachInMembers(P("/t2"), [&](auto, const auto&) { ++count; }).ok());
  EXPECT_EQ(count, kEach);
}

INSTANTIATE_TEST_SUITE_P(Stores, PropertyStoreTest,
                         ::testing::ValuesIn(test_support::AllStoreBackends()),
                         test_support::BackendName);

// ---------------------------------------------------------------------------------------------
// SqlitePropertyStore only, on ":memory:" and on a file.

class SqlitePropertyStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    file_ = GetParam() ? (dir_.path() / "keepdav.db").string() : ":memory:";
    Result<std::unique_ptr<Database>> db = Database::Open(file_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    store_ = std::make_unique<SqlitePropertyStore>(*db_);
  }

  test_support::TempDir dir_{"keepdav-props"};
  std::string file_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlitePropertyStore> store_;
};

TEST_P(SqlitePropertyStoreTest, ApplyRollsBackWhenTheDatabaseFailsMidway) {
  // A trigger makes the third statement fail inside the transaction, after two succeeded.
  {
    auto lock = db_->Lock();
    ASSERT_TRUE(db_->Execute("CREATE TEMP TRIGGER refuse BEFORE INSERT ON properties "
                             "WHEN NEW.name = 'poison' BEGIN SELECT RAISE(ABORT, 'no'); END")
                    .ok());
  }
  ASSERT_TRUE(store_->Apply(P("/f"), {Set("", "keep", "old")}).ok());
  Status s = store_->Apply(P("/f"), {Set("", "keep", "new"), Set("", "other", "v"),
                                     Set("", "poison", "x"), Set("", "after", "y")});
  EXPECT_FALSE(s.ok());
  Result<std::vector<DeadProperty>> all = store_->GetAll(P("/f"));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].value, "old");
  // The store is usable afterwards (the transaction really ended).
  EXPECT_TRUE(store_->Apply(P("/f"), {Set("", "later", "z")}).ok());
}

INSTANTIATE_TEST_SUITE_P(Storage, SqlitePropertyStoreTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "File" : "Memory";
                         });

// The one builder of subtree ranges (properties, locks, checksums).
TEST(SubtreeRangeTest, BoundsHoldExactlyThePathsBelow) {
  SubtreeRange a(P("/a"));
  EXPECT_EQ(a.self, "/a");
  EXPECT_EQ(a.low, "/a/");
  EXPECT_EQ(a.high, "/a0");
  for (const char* inside : {"/a/", "/a/b", "/a/b/c", "/a/\xff"}) {
    EXPECT_TRUE(std::string(inside) >= a.low && std::string(inside) < a.high) << inside;
  }
  for (const char* outside : {"/a", "/ab", "/a-", "/a.b", "/a0", "/b", "/"}) {
    EXPECT_FALSE(std::string(outside) >= a.low && std::string(outside) < a.high) << outside;
  }
  SubtreeRange root{ResourcePath()};
  EXPECT_EQ(root.self, "/");
  EXPECT_EQ(root.low, "/");
  EXPECT_EQ(root.high, "0");
  EXPECT_EQ(SqliteSubtree::Where("root"), "(root = ?1 OR (root >= ?2 AND root < ?3))");
  EXPECT_EQ(PgSubtree::Where("root"),
            "(root = $1::bytea OR (root >= $2::bytea AND root < $3::bytea))");
}

// The one overlap check of tree copies and moves (both property stores, both checksum stores).
TEST(SubtreeRangeTest, OverlappingTreesAreRefused) {
  EXPECT_TRUE(CheckDisjointTrees(P("/a"), P("/b"), "copy properties").ok());
  EXPECT_TRUE(CheckDisjointTrees(P("/a"), P("/ab"), "copy properties").ok());
  for (auto [from, to] : {std::pair{"/a", "/a/b"}, {"/a/b", "/a"}, {"/a", "/a"}}) {
    Status s = CheckDisjointTrees(P(from), P(to), "move properties");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << from << " " << to;
    EXPECT_NE(s.ToString().find(std::string("move properties ") + from + " to " + to),
              std::string::npos)
        << s.ToString();
  }
  EXPECT_FALSE(CheckDisjointTrees(ResourcePath(), P("/x"), "copy properties").ok());
}

}  // namespace
}  // namespace keepdav::storage
