// Tests for webdav/mime_types: Content-Type by extension.
#include "webdav/mime_types.h"

#include <gtest/gtest.h>

#include <string>

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

// The extension is lower-cased into a short buffer: longer ones, and ones whose start is a known
// extension, match nothing; bytes outside ASCII are not folded.
TEST(ContentTypeForTest, LongAndNonAsciiExtensions) {
  EXPECT_EQ(ContentTypeFor("sheet.XLSX"),
            "application/vnd.openxmlformats-officedocument."
            "spreadsheetml.sheet");
  EXPECT_EQ(ContentTypeFor("a.txtt"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.tx"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a." + std::string(40, 'x')), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.t\xC3\xA9xt"), "application/octet-stream");
  EXPECT_EQ(ContentTypeFor("a.TXT\xC3"), "application/octet-stream");
}

}  // namespace
}  // namespace keepdav::webdav
