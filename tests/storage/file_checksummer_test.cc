// FileChecksummer and ChecksumsOf against published digests (FIPS 180 "abc", RFC 1321 "abc") and
// sha256sum/sha1sum/md5sum of larger inputs read in pieces.
#include "storage/file_checksummer.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/memory_file_system.h"

namespace keepdav::storage {
namespace {

TEST(FileChecksummerTest, Abc) {
  FileChecksummer summer;
  summer.Update("a", 1);
  summer.Update("bc", 2);  // pieces give the sums of the whole
  Result<FileChecksums> sums = summer.Finish();
  ASSERT_TRUE(sums.ok()) << sums.status().ToString();
  EXPECT_EQ(sums->sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sums->md5, "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(sums->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(FileChecksummerTest, Empty) {
  FileChecksummer summer;
  Result<FileChecksums> sums = summer.Finish();
  ASSERT_TRUE(sums.ok());
  EXPECT_EQ(sums->sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sums->md5, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(sums->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

Status Write(FileSystem& fs, const ResourcePath& path, const std::string& content) {
  auto w = fs.BeginWrite(path);
  if (!w.ok()) return w.status();
  Status s = w.value()->Write(content.data(), content.size());
  return s.ok() ? w.value()->Commit() : s;
}

TEST(FileChecksummerTest, ChecksumsOfAFileLargerThanOnePiece) {
  MemoryFileSystem fs;
  ResourcePath path = ResourcePath::Parse("/big").value();
  ASSERT_TRUE(Write(fs, path, std::string(3000000, 'a')).ok());
  auto file = fs.OpenRead(path);
  ASSERT_TRUE(file.ok());
  Result<FileChecksums> sums = ChecksumsOf(*file.value(), 3000000);
  ASSERT_TRUE(sums.ok()) << sums.status().ToString();
  EXPECT_EQ(sums->sha256, "2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9dd4");
  // A file shorter than announced changed while being read.
  EXPECT_EQ(ChecksumsOf(*file.value(), 3000001).status().code(), StatusCode::kIoError);
}

TEST(FileChecksummerTest, IdentityOfTakesTheFourFigures) {
  FileInfo info;
  info.inode = 7;
  info.size = 8;
  info.mtime_ns = 9;
  info.ctime_ns = 10;
  info.birth_ns = 11;
  EXPECT_EQ(IdentityOf(info), (FileIdentity{7, 8, 9, 10}));
}

}  // namespace
}  // namespace keepdav::storage
