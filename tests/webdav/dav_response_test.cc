// WriteResponse, the one place a response is written: each kind of body, HEAD, errors (and the
// detail they keep out of the body). A recording ResponseSink; a MemoryFileSystem for the
// file-range body (its files have no descriptor, so the read loop is what runs).
#include "webdav/dav_response.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "storage/memory_file_system.h"
#include "webdav/error_response.h"

namespace keepdav::webdav {
namespace {

class RecordingSink : public ResponseSink {
 public:
  explicit RecordingSink(bool head_only = false) : head_only_(head_only) {}
  void SetStatus(int code) override { status = code; }
  void SetHeader(const std::string& name, const std::string& value) override {
    EXPECT_EQ(sends, 0) << "header after send: " << name;
    headers[name] = value;
  }
  void SendEmpty() override {
    ++sends;
    length = 0;
  }
  std::ostream& SendBody(int64_t len) override {
    ++sends;
    length = len;
    return head_only_ ? discard : body;
  }
  bool SendFileRange(int, uint64_t, uint64_t) override {
    ADD_FAILURE() << "a file without a descriptor must not use SendFileRange";
    return false;
  }
  bool sent() const override { return sends > 0; }
  bool head_only() const override { return head_only_; }

  int status = 0;
  HeaderMap headers;
  int sends = 0;
  int64_t length = -2;
  std::ostringstream body;
  std::ostringstream discard;

 private:
  bool head_only_;
};

DavRequest Request(const std::string& method) {
  DavRequest req;
  req.method = method;
  req.target = "/x";
  return req;
}

TEST(WriteResponseTest, EmptyHasNoBody) {
  RecordingSink sink;
  DavResponse r = DavResponse::Empty(204);
  r.AddHeader("ETag", "\"e\"");
  WriteResponse(Request("PUT"), std::move(r), sink);
  EXPECT_EQ(sink.status, 204);
  EXPECT_EQ(sink.sends, 1);
  EXPECT_EQ(sink.length, 0);
  EXPECT_EQ(sink.headers["ETag"], "\"e\"");
}

TEST(WriteResponseTest, TextGoesOutWithItsLength) {
  RecordingSink sink;
  WriteResponse(Request("LOCK"), DavResponse::Text(201, "application/xml", "<a/>"), sink);
  EXPECT_EQ(sink.status, 201);
  EXPECT_EQ(sink.length, 4);
  EXPECT_EQ(sink.body.str(), "<a/>");
  EXPECT_EQ(sink.headers["Content-Type"], "application/xml");
}

TEST(WriteResponseTest, StreamedIsChunkedAndNotProducedForHead) {
  int runs = 0;
  auto make = [&runs] {
    return DavResponse::Streamed(200, "text/html", [&runs](std::ostream& out) {
      ++runs;
      out << "page";
    });
  };
  RecordingSink get;
  WriteResponse(Request("GET"), make(), get);
  EXPECT_EQ(get.length, -1);
  EXPECT_EQ(get.body.str(), "page");
  RecordingSink head(/*head_only=*/true);
  WriteResponse(Request("HEAD"), make(), head);
  EXPECT_EQ(head.length, -1);
  EXPECT_EQ(runs, 1) << "HEAD produced the body";
}

TEST(WriteResponseTest, FileRangeWithoutDescriptorIsRead) {
  storage::MemoryFileSystem fs;
  auto path = storage::ResourcePath::Parse("/f").value();
  auto w = fs.BeginWrite(path);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w.value()->Write("0123456789", 10).ok());
  ASSERT_TRUE(w.value()->Commit().ok());
  auto file = fs.OpenRead(path);
  ASSERT_TRUE(file.ok());
  RecordingSink sink;
  WriteResponse(Request("GET"), DavResponse::FileRange(206, std::move(file).value(), 2, 5), sink);
  EXPECT_EQ(sink.status, 206);
  EXPECT_EQ(sink.length, 5);
  EXPECT_EQ(sink.body.str(), "23456");
}

// A file that has a descriptor: only NativeHandle matters to WriteResponse.
class DescriptorFile : public storage::ReadableFile {
 public:
  const storage::FileInfo& info() const override { return info_; }
  storage::Result<size_t> ReadAt(uint64_t, char*, size_t) override {
    ADD_FAILURE() << "a file with a descriptor must not be read through ReadAt";
    return size_t{0};
  }
  int NativeHandle() const override { return 42; }

 private:
  storage::FileInfo info_;
};

// Records SendFile instead of asking for a body stream.
class FileSink : public RecordingSink {
 public:
  using RecordingSink::RecordingSink;
  bool SendFile(int fd, uint64_t offset, uint64_t len) override {
    ++sends;
    file = {fd, offset, len};
    return true;
  }
  std::ostream& SendBody(int64_t len) override {
    ADD_FAILURE() << "a file with a descriptor needs no body stream";
    return RecordingSink::SendBody(len);
  }
  struct {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
  } file;
};

TEST(WriteResponseTest, FileRangeWithDescriptorGoesOutWithSendFileAndItsHeaders) {
  FileSink sink;
  DavResponse response = DavResponse::FileRange(206, std::make_unique<DescriptorFile>(), 2, 5);
  response.AddHeader("ETag", "\"old\"").AddHeader("Accept-Ranges", "bytes");
  response.AddHeader("ETag", "\"new\"");  // a repeated name: the last value, as SetHeader
  WriteResponse(Request("GET"), std::move(response), sink);
  EXPECT_EQ(sink.status, 206);
  EXPECT_EQ(sink.sends, 1);
  EXPECT_EQ(sink.file.fd, 42);
  EXPECT_EQ(sink.file.offset, 2u);
  EXPECT_EQ(sink.file.length, 5u);
  EXPECT_EQ(sink.headers["ETag"], "\"new\"");
  EXPECT_EQ(sink.headers["Accept-Ranges"], "bytes");
}

TEST(WriteResponseTest, ErrorBodyHasStatusReasonAndNoDetail) {
  RecordingSink sink;
  DavError err = DavError::FromStorage(
      storage::Status::NotFound("stat /etc-link/passwd: Too many levels of symbolic links"));
  DavResponse r = err;
  r.AddHeader("Content-Location", "/d/");
  WriteResponse(Request("GET"), std::move(r), sink);
  EXPECT_EQ(sink.status, 404);
  EXPECT_EQ(sink.body.str(), "404 Not Found: no such resource\n");
  EXPECT_EQ(sink.length, static_cast<int64_t>(sink.body.str().size()));
  EXPECT_EQ(sink.headers["Content-Type"], "text/plain; charset=utf-8");
  EXPECT_EQ(sink.headers["Content-Location"], "/d/");
  EXPECT_NE(err.detail.find("Too many levels"), std::string::npos) << "the log loses the detail";
}

TEST(WriteResponseTest, ErrorWithPreconditionIsDavErrorXml) {
  RecordingSink sink;
  WriteResponse(Request("LOCK"), DavError::Make(423, "locked", "lock-token-submitted"), sink);
  EXPECT_EQ(sink.status, 423);
  EXPECT_NE(sink.body.str().find("<D:error xmlns:D=\"DAV:\"><D:lock-token-submitted/>"),
            std::string::npos)
      << sink.body.str();
  EXPECT_EQ(sink.body.str().find("locked"), std::string::npos);
}

TEST(WriteResponseTest, ErrorToHeadHasNoBodyAnd405NamesAllow) {
  RecordingSink sink(/*head_only=*/true);
  WriteResponse(Request("HEAD"), DavError::Make(405, "no"), sink);
  EXPECT_EQ(sink.status, 405);
  EXPECT_EQ(sink.length, 0);
  EXPECT_FALSE(sink.headers["Allow"].empty());
}

}  // namespace
}  // namespace keepdav::webdav
