// Tests for webdav/mime_types: Content-Type by extension.
#include "webdav/mime_types.h"

#include <gtest/gtest.h>

namespace keepdav::webdav {
namespace {

TEST(ContentTypeForTest, KnownExtensions) {
  EXPECT_EQ(ContentTypeFor("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("paper.pdf"), "application/pdf");
  EXPECT_EQ(ContentTypeFor("photo.jpg"), "image/jpeg");
  EXPECT_EQ(ContentTypeFor("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(ContentTypeFor("data.json"), "application/json");
  EXPECT_EQ(ContentTypeFor("report.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
}

TEST(ContentTypeForTest, LastExtensionCounts) {
  EXPECT_EQ(ContentTypeFor("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(ContentTypeFor("image.png.txt"), "text/plain; charset=utf-8");
}

TEST(ContentTypeForTest, CaseInsensitive) {
  EXPECT_EQ(ContentTypeFor("PAPER.PDF"), "application/pdf");
  EXPECT_EQ(ContentTypeFor("Photo.JpEg"), "image/jpeg");
  EXPECT_EQ(ContentTypeFor("README.Md"), "text/markdown; charset=utf-8");
}

TEST(ContentTypeForTest, UnknownOrMissingExtension) {
  EXPECT_EQ(ContentTypeFor("Makefile"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(""), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("trailing."), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("file.unknownext"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor(".bashrc"), "application/octet-stream");
}

}  // namespace
}  // namespace keepdav::webdav
