// The OperationJournal contract, run against every implementation (store_backends.h), then what
// only SqliteOperationJournal promises (reading stored paths back).
#include "storage/operation_journal.h"

#include <gtest/gtest.h>

#include "storage/journal_rows.h"
#include "storage/property_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "tests/storage/status_printer.h"
#include "tests/storage/store_backends.h"

namespace keepdav::storage {
namespace {

ResourcePath P(std::string_view s) {
  return ResourcePath::Parse(s).value();
}

JournalEntry Entry(JournalEntry::Kind kind) {
  JournalEntry e;
  e.kind = kind;
  e.source = P("/src");
  e.destination = P("/dst");
  e.staging = ResourcePath().InternalChild(".keepdav-stage-1");
  e.trash = ResourcePath().InternalChild(".keepdav-trash-1");
  return e;
}

class OperationJournalTest : public test_support::StoreContractTest {
 protected:
  void SetUp() override {
    StoreContractTest::SetUp();
    if (!backend_) return;
    UseStores();
    ASSERT_TRUE(props_->Apply(P("/src"), {{{"urn:k", "a"}, false, "<a>src</a>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/src/x"), {{{"urn:k", "a"}, false, "<a>src-x</a>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/dst"), {{{"urn:k", "b"}, false, "<b>old</b>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/dst/y"), {{{"urn:k", "b"}, false, "<b>old-y</b>"}}).ok());
  }
  void UseStores() {
    props_ = &backend_->properties();
    journal_ = &backend_->journal();
  }
  PropertyStore* props_ = nullptr;
  OperationJournal* journal_ = nullptr;
};

TEST_P(OperationJournalTest, PartialWriteRecordsRoundTripOldestFirst) {
  EXPECT_TRUE(journal_->PendingPartialWrites()->empty());
  PartialWriteRecord a;
  a.path = ResourcePath::Parse("/dir/file name").value();
  a.inode = 42;
  a.old_size = 1000;
  a.old_mtime_ns = -1234567890123;  // before 1970
  a.offset = 990;
  a.saved = std::string("old\0bytes", 9);  // binary, with a NUL
  ASSERT_TRUE(journal_->BeginPartialWrite(&a).ok());
  PartialWriteRecord b;
  b.path = ResourcePath::Parse("/b").value();
  b.offset = 7;
  ASSERT_TRUE(journal_->BeginPartialWrite(&b).ok());
  EXPECT_NE(a.id, b.id);
  auto pending = journal_->PendingPartialWrites();
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 2u);
  const PartialWriteRecord& got = (*pending)[0];
  EXPECT_EQ(got.id, a.id);
  EXPECT_EQ(got.path, a.path);
  EXPECT_EQ(got.inode, 42u);
  EXPECT_EQ(got.old_size, 1000u);
  EXPECT_EQ(got.old_mtime_ns, -1234567890123);
  EXPECT_EQ(got.offset, 990u);
  EXPECT_EQ(got.saved, a.saved);
  EXPECT_FALSE(got.unreadable);
  EXPECT_EQ((*pending)[1].saved, "");
  ASSERT_TRUE(journal_->FinishPartialWrite(a.id).ok());
  pending = journal_->PendingPartialWrites();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].id, b.id);
  // The staged-operation entries are another list.
  EXPECT_TRUE(journal_->Pending()->empty());
}

TEST_P(OperationJournalTest, StagedPathsRoundTrip) {
  JournalEntry e = Entry(JournalEntry::Kind::kCopy);
  e.destination = P("/a/b");
  e.staging = P("/a").InternalChild(".keepdav-stage-ff").Child("b");
  ASSERT_TRUE(journal_->Begin(&e).ok());
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_FALSE((*pending)[0].unreadable);
  ASSERT_TRUE((*pending)[0].staging.has_value());
  EXPECT_EQ((*pending)[0].staging->str(), "/a/.keepdav-stage-ff/b");
  EXPECT_EQ((*pending)[0].trash, e.trash);
  EXPECT_EQ((*pending)[0].source, P("/src"));
  EXPECT_EQ((*pending)[0].destination, P("/a/b"));
  EXPECT_EQ((*pending)[0].kind, JournalEntry::Kind::kCopy);
  EXPECT_EQ((*pending)[0].id, e.id);
}

TEST_P(OperationJournalTest, BeginRefusesAnEntryItCannotRecover) {
  JournalEntry no_staging = Entry(JournalEntry::Kind::kMove);
  no_staging.staging.reset();
  EXPECT_EQ(journal_->Begin(&no_staging).code(), StatusCode::kInvalidArgument);
  JournalEntry no_trash = Entry(JournalEntry::Kind::kCopy);
  no_trash.trash.reset();
  EXPECT_EQ(journal_->Begin(&no_trash).code(), StatusCode::kInvalidArgument);
  JournalEntry rename = Entry(JournalEntry::Kind::kRename);
  EXPECT_EQ(journal_->Begin(&rename).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(journal_->Pending()->empty());
}

TEST_P(OperationJournalTest, CopyLifecycleMovesPropertiesOnlyAtTheSwap) {
  JournalEntry e = Entry(JournalEntry::Kind::kCopy);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  EXPECT_GT(e.id, 0);
  ASSERT_TRUE(journal_->StageProperties(&e, true, 42, 7).ok());
  EXPECT_EQ(e.state, JournalEntry::State::kReady);
  // Staged, not yet visible: the destination still has its old properties.
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].staged_inode, 42u);
  EXPECT_EQ((*pending)[0].staged_device, 7u);
  EXPECT_EQ((*pending)[0].state, JournalEntry::State::kReady);

  ASSERT_TRUE(journal_->CommitSwap(&e).ok());
  EXPECT_EQ(e.state, JournalEntry::State::kSwapped);
  EXPECT_EQ(*props_->Get(P("/dst"), {"urn:k", "a"}), "<a>src</a>");
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_TRUE(props_->Get(P("/dst/y"), {"urn:k", "b"}).status().IsNotFound());
  EXPECT_EQ(*props_->Get(P("/src/x"), {"urn:k", "a"}), "<a>src-x</a>");  // a copy keeps them
  ASSERT_TRUE(journal_->Finish(e).ok());
  EXPECT_TRUE(journal_->Pending()->empty());
  EXPECT_TRUE(props_->PathsUnder(ResourcePath())->size() == 4u);  // src, src/x, dst, dst/x
}

TEST_P(OperationJournalTest, MoveDropsTheSourcePropertiesAtTheSwap) {
  JournalEntry e = Entry(JournalEntry::Kind::kMove);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, true, 1, 1).ok());
  ASSERT_TRUE(journal_->CommitSwap(&e).ok());
  EXPECT_TRUE(props_->Get(P("/src/x"), {"urn:k", "a"}).status().IsNotFound());
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
}

TEST_P(OperationJournalTest, DepthZeroStagesOnlyTheRoot) {
  JournalEntry e = Entry(JournalEntry::Kind::kCopy);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, false, 1, 1).ok());
  ASSERT_TRUE(journal_->CommitSwap(&e).ok());
  EXPECT_EQ(*props_->Get(P("/dst"), {"urn:k", "a"}), "<a>src</a>");
  EXPECT_TRUE(props_->Get(P("/dst/x"), {"urn:k", "a"}).status().IsNotFound());
}

TEST_P(OperationJournalTest, RollBackLeavesNoStagedProperties) {
  JournalEntry e = Entry(JournalEntry::Kind::kCopy);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, true, 1, 1).ok());
  ASSERT_TRUE(journal_->Finish(e).ok());  // abandoned before the swap
  EXPECT_TRUE(journal_->Pending()->empty());
  auto paths = props_->PathsUnder(ResourcePath());
  ASSERT_TRUE(paths.ok());
  for (const std::string& p : *paths) EXPECT_EQ(p.find(".keepdav-"), std::string::npos) << p;
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
}

TEST_P(OperationJournalTest, RenameMovesPropertiesAndUndoPutsThemBack) {
  JournalEntry e;
  e.source = P("/src");
  e.destination = P("/moved");
  ASSERT_TRUE(journal_->BeginRename(&e, 5, 6).ok());
  EXPECT_EQ(e.kind, JournalEntry::Kind::kRename);
  EXPECT_EQ(e.state, JournalEntry::State::kReady);
  EXPECT_FALSE(e.staging.has_value());
  EXPECT_EQ(*props_->Get(P("/moved/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_TRUE(props_->Get(P("/src/x"), {"urn:k", "a"}).status().IsNotFound());
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].kind, JournalEntry::Kind::kRename);
  EXPECT_EQ((*pending)[0].staged_inode, 5u);
  EXPECT_EQ((*pending)[0].staged_device, 6u);
  EXPECT_FALSE((*pending)[0].staging.has_value());
  EXPECT_FALSE((*pending)[0].unreadable);

  ASSERT_TRUE(journal_->UndoRename((*pending)[0]).ok());
  EXPECT_TRUE(journal_->Pending()->empty());
  EXPECT_EQ(*props_->Get(P("/src/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_TRUE(props_->Get(P("/moved/x"), {"urn:k", "a"}).status().IsNotFound());
  // Finishing a rename touches no properties (it has no staging path).
  ASSERT_TRUE(journal_->BeginRename(&e, 5, 6).ok());
  ASSERT_TRUE(journal_->Finish(e).ok());
  EXPECT_EQ(*props_->Get(P("/moved/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
}

TEST_P(OperationJournalTest, ReplaceParksTheOldPropertiesAndUndoRestoresBoth) {
  JournalEntry e;
  e.source = P("/src");
  e.destination = P("/dst");
  e.trash = ResourcePath().InternalChild(".keepdav-trash-2");
  ASSERT_TRUE(journal_->BeginReplace(&e, 11, 12).ok());
  EXPECT_EQ(e.kind, JournalEntry::Kind::kReplace);
  EXPECT_EQ(e.state, JournalEntry::State::kBuilding);
  // Nothing moves before the old destination has been renamed aside.
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
  ASSERT_TRUE(journal_->StageReplace(&e).ok());
  EXPECT_EQ(e.state, JournalEntry::State::kReady);
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_TRUE(props_->Get(P("/dst/y"), {"urn:k", "b"}).status().IsNotFound());
  EXPECT_TRUE(props_->Get(P("/src/x"), {"urn:k", "a"}).status().IsNotFound());
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].kind, JournalEntry::Kind::kReplace);
  EXPECT_EQ((*pending)[0].state, JournalEntry::State::kReady);
  EXPECT_EQ((*pending)[0].trash, e.trash);
  EXPECT_EQ((*pending)[0].staged_inode, 11u);
  EXPECT_FALSE((*pending)[0].unreadable);

  ASSERT_TRUE(journal_->UndoReplace((*pending)[0]).ok());
  EXPECT_TRUE(journal_->Pending()->empty());
  EXPECT_EQ(*props_->Get(P("/src/x"), {"urn:k", "a"}), "<a>src-x</a>");
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
  EXPECT_TRUE(props_->Get(P("/dst/x"), {"urn:k", "a"}).status().IsNotFound());
  auto parked = props_->PathsUnder(ResourcePath());
  ASSERT_TRUE(parked.ok());
  for (const std::string& p : *parked) EXPECT_EQ(p.find(".keepdav-"), std::string::npos) << p;

  // Done: Finish drops the old destination's properties parked at the trash path.
  ASSERT_TRUE(journal_->BeginReplace(&e, 11, 12).ok());
  ASSERT_TRUE(journal_->StageReplace(&e).ok());
  ASSERT_TRUE(journal_->Finish(e).ok());
  EXPECT_TRUE(journal_->Pending()->empty());
  parked = props_->PathsUnder(ResourcePath());
  ASSERT_TRUE(parked.ok());
  for (const std::string& p : *parked) EXPECT_EQ(p.find(".keepdav-"), std::string::npos) << p;
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
}

TEST_P(OperationJournalTest, BeginReplaceRefusesAnEntryWithoutTrash) {
  JournalEntry e;
  e.source = P("/src");
  e.destination = P("/dst");
  EXPECT_EQ(journal_->BeginReplace(&e, 1, 2).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(journal_->Pending()->empty());
}

TEST_P(OperationJournalTest, DeleteIsRecordedWithoutTouchingProperties) {
  JournalEntry e;
  e.destination = P("/dst");
  ASSERT_TRUE(journal_->BeginDelete(&e).ok());
  EXPECT_EQ(e.kind, JournalEntry::Kind::kDelete);
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].kind, JournalEntry::Kind::kDelete);
  EXPECT_EQ((*pending)[0].destination, P("/dst"));
  EXPECT_FALSE((*pending)[0].staging.has_value());
  EXPECT_FALSE((*pending)[0].unreadable);
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
  ASSERT_TRUE(journal_->Finish((*pending)[0]).ok());
  EXPECT_TRUE(journal_->Pending()->empty());
  EXPECT_EQ(*props_->Get(P("/dst/y"), {"urn:k", "b"}), "<b>old-y</b>");
}

// What start-up recovery relies on: an unfinished operation is still there after a restart.
TEST_P(OperationJournalTest, PendingSurvivesARestart) {
  if (!backend_->persistent()) GTEST_SKIP() << "the data does not outlive the journal";
  JournalEntry e = Entry(JournalEntry::Kind::kMove);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, true, 9, 8).ok());
  backend_->Reopen();
  UseStores();
  auto pending = journal_->Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].state, JournalEntry::State::kReady);
  EXPECT_EQ((*pending)[0].staging, e.staging);
  EXPECT_EQ((*pending)[0].staged_inode, 9u);
  ASSERT_TRUE(journal_->CommitSwap(&(*pending)[0]).ok());
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
}

INSTANTIATE_TEST_SUITE_P(Stores, OperationJournalTest,
                         ::testing::ValuesIn(test_support::AllStoreBackends()),
                         test_support::BackendName);

// How every journal reads its stored paths back (storage/journal_rows.h).
TEST(JournalRowsTest, StagedPathsRoundTripThroughText) {
  auto p = JournalPathFromText("/a/.keepdav-stage-ff/b");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->str(), "/a/.keepdav-stage-ff/b");
  EXPECT_TRUE(JournalPathFromText("/")->IsRoot());
  EXPECT_FALSE(JournalPathFromText("/a/../b").ok());
  EXPECT_FALSE(JournalPathFromText("a/b").ok());
  EXPECT_FALSE(JournalPathFromText("").ok());
}

// ---------------------------------------------------------------------------------------------
// SqliteOperationJournal only.

// A row whose paths no longer parse comes back marked, with what did parse, and Finish drops it
// without touching the properties of any path it could not read.
TEST(SqliteOperationJournalTest, AnUnreadableRowIsMarkedAndCanBeDropped) {
  test_support::SqliteBackend backend(/*on_file=*/false, /*exclusive=*/false);
  ASSERT_TRUE(backend.properties().Apply(P("/keep"), {{{"", "p"}, false, "v"}}).ok());
  {
    Database& db = backend.database();
    auto lock = db.Lock();
    ASSERT_TRUE(db.Execute("INSERT INTO operations (kind, state, source, destination, staging, "
                           "trash, staged_inode, staged_device) VALUES "
                           "(0, 1, '/a/../b', '/dst', '/.keepdav-stage-1', 'no-slash', 0, 0)")
                    .ok());
  }
  auto pending = backend.journal().Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  const JournalEntry& e = (*pending)[0];
  EXPECT_TRUE(e.unreadable);
  EXPECT_EQ(e.destination, P("/dst"));
  EXPECT_TRUE(e.staging.has_value());
  EXPECT_FALSE(e.trash.has_value());
  ASSERT_TRUE(backend.journal().Finish(e).ok());
  EXPECT_TRUE(backend.journal().Pending()->empty());
  EXPECT_EQ(*backend.properties().Get(P("/keep"), {"", "p"}), "v");
}

}  // namespace
}  // namespace keepdav::storage
