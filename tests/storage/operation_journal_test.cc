#include "storage/operation_journal.h"

#include <gtest/gtest.h>

#include "storage/property_store.h"
#include "tests/storage/status_printer.h"

namespace keepdav::storage {
namespace {

ResourcePath P(std::string_view s) {
  return ResourcePath::Parse(s).value();
}

class OperationJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_ = std::move(db.value());
    props_ = std::make_unique<PropertyStore>(*db_);
    journal_ = std::make_unique<OperationJournal>(*db_);
    ASSERT_TRUE(props_->Apply(P("/src"), {{{"urn:k", "a"}, false, "<a>src</a>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/src/x"), {{{"urn:k", "a"}, false, "<a>src-x</a>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/dst"), {{{"urn:k", "b"}, false, "<b>old</b>"}}).ok());
    ASSERT_TRUE(props_->Apply(P("/dst/y"), {{{"urn:k", "b"}, false, "<b>old-y</b>"}}).ok());
  }
  JournalEntry Entry(JournalEntry::Kind kind) {
    JournalEntry e;
    e.kind = kind;
    e.source = "/src";
    e.destination = "/dst";
    e.staging = "/.keepdav-stage-1";
    e.trash = "/.keepdav-trash-1";
    return e;
  }
  std::unique_ptr<Database> db_;
  std::unique_ptr<PropertyStore> props_;
  std::unique_ptr<OperationJournal> journal_;
};

TEST_F(OperationJournalTest, StagedPathsRoundTripThroughText) {
  auto p = OperationJournal::PathFromText("/a/.keepdav-stage-ff/b");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->str(), "/a/.keepdav-stage-ff/b");
  EXPECT_FALSE(OperationJournal::PathFromText("/a/../b").ok());
}

TEST_F(OperationJournalTest, CopyLifecycleMovesPropertiesOnlyAtTheSwap) {
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

TEST_F(OperationJournalTest, MoveDropsTheSourcePropertiesAtTheSwap) {
  JournalEntry e = Entry(JournalEntry::Kind::kMove);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, true, 1, 1).ok());
  ASSERT_TRUE(journal_->CommitSwap(&e).ok());
  EXPECT_TRUE(props_->Get(P("/src/x"), {"urn:k", "a"}).status().IsNotFound());
  EXPECT_EQ(*props_->Get(P("/dst/x"), {"urn:k", "a"}), "<a>src-x</a>");
}

TEST_F(OperationJournalTest, DepthZeroStagesOnlyTheRoot) {
  JournalEntry e = Entry(JournalEntry::Kind::kCopy);
  ASSERT_TRUE(journal_->Begin(&e).ok());
  ASSERT_TRUE(journal_->StageProperties(&e, false, 1, 1).ok());
  ASSERT_TRUE(journal_->CommitSwap(&e).ok());
  EXPECT_EQ(*props_->Get(P("/dst"), {"urn:k", "a"}), "<a>src</a>");
  EXPECT_TRUE(props_->Get(P("/dst/x"), {"urn:k", "a"}).status().IsNotFound());
}

TEST_F(OperationJournalTest, RollBackLeavesNoStagedProperties) {
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

}  // namespace
}  // namespace keepdav::storage
