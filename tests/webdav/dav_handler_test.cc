// Per-method tests of DavHandler without sockets: a real PosixFileSystem on a fresh temporary
// directory, an in-memory SQLite PropertyStore, and a fake ResponseSink that records everything.
#include "webdav/dav_handler.h"
#include "webdav/browser_assets.h"
#include "webdav/browser_page.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pugixml.hpp>
#include "tests/webdav/xml_test_util.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "storage/clock.h"
#include "storage/database.h"
#include "storage/posix_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"

namespace keepdav::webdav {
namespace {

namespace fsys = std::filesystem;
using storage::ResourcePath;

// Records status, headers and body; checks that exactly one Send* happens.
class FakeSink : public ResponseSink {
 public:
  explicit FakeSink(bool head_only) : head_only_(head_only) {}

  void SetStatus(int code) override {
    EXPECT_FALSE(sent_) << "SetStatus after send";
    status = code;
  }
  void SetHeader(const std::string& name, const std::string& value) override {
    EXPECT_FALSE(sent_) << "SetHeader after send: " << name;
    headers[name] = value;
  }
  void SendEmpty() override {
    EXPECT_FALSE(sent_) << "sent twice";
    sent_ = true;
    content_length = 0;
  }
  std::ostream& SendBody(int64_t length) override {
    EXPECT_FALSE(sent_) << "sent twice";
    sent_ = true;
    content_length = length;
    return head_only_ ? discard_ : body;
  }
  bool SendFileRange(int fd, uint64_t offset, uint64_t length) override {
    EXPECT_TRUE(sent_);
    std::vector<char> buf(length);
    size_t done = 0;
    while (done < length) {
      ssize_t n = pread(fd, buf.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    body.write(buf.data(), static_cast<std::streamsize>(done));
    return done == length;
  }
  bool sent() const override { return sent_; }
  bool head_only() const override { return head_only_; }

  int status = 0;
  HeaderMap headers;
  int64_t content_length = -2;  // -2: nothing sent
  std::ostringstream body;

 private:
  bool head_only_;
  bool sent_ = false;
  std::ostringstream discard_;
};

struct Response {
  int status = 0;
  HeaderMap headers;
  int64_t content_length = -2;
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// ---------------------------------------------------------------------------------------------
// Multistatus parsing helpers (namespaces resolved by hand; pugixml is not namespace-aware).

using testing::Child;
using testing::Children;
using testing::Is;
using testing::LocalName;
using testing::NamespaceOf;

// One property as found in a multistatus: which propstat status it was listed under.
struct FoundProp {
  std::string href;
  int status = 0;
  pugi::xml_node element;
};

class Multistatus {
 public:
  explicit Multistatus(const std::string& xml) {
    ok_ = static_cast<bool>(
        doc_.load_string(xml.c_str(), pugi::parse_default | pugi::parse_ws_pcdata));
    if (ok_) ok_ = Is(doc_.document_element(), "DAV:", "multistatus");
  }
  bool ok() const { return ok_; }
  std::vector<pugi::xml_node> Responses() const {
    return Children(doc_.document_element(), "DAV:", "response");
  }
  std::vector<std::string> Hrefs() const {
    std::vector<std::string> out;
    for (auto r : Responses()) out.push_back(Child(r, "DAV:", "href").child_value());
    return out;
  }
  // The property (ns, local) of the response whose href is `href`; status 0 when absent.
  FoundProp Find(const std::string& href, const std::string& ns, const std::string& local) const {
    for (auto r : Responses()) {
      if (href != Child(r, "DAV:", "href").child_value()) continue;
      for (auto ps : Children(r, "DAV:", "propstat")) {
        for (auto p : Child(ps, "DAV:", "prop").children()) {
          if (Is(p, ns, local)) {
            std::string line = Child(ps, "DAV:", "status").child_value();
            return {href, std::atoi(line.substr(9, 3).c_str()), p};
          }
        }
      }
    }
    return {};
  }

 private:
  pugi::xml_document doc_;
  bool ok_ = false;
};

std::string PropfindBody(const std::string& props_xml) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\" "
         "xmlns:Z=\"urn:z\"><D:prop>" +
         props_xml + "</D:prop></D:propfind>";
}

std::string ProppatchBody(const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propertyupdate xmlns:D=\"DAV:\" "
         "xmlns:Z=\"urn:z\">" +
         inner + "</D:propertyupdate>";
}

std::string SetColor(const std::string& value) {
  return ProppatchBody("<D:set><D:prop><Z:color>" + value + "</Z:color></D:prop></D:set>");
}

// ---------------------------------------------------------------------------------------------

class DavHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "keepdav-davhandler-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    auto fs = storage::PosixFileSystem::Open(root_, storage::PosixFileSystem::Options());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    auto db = storage::Database::Open(":memory:");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    props_ = std::make_unique<storage::SqlitePropertyStore>(*db_);
    journal_ = std::make_unique<storage::SqliteOperationJournal>(*props_);
    locks_ = std::make_unique<storage::SqliteLockStore>(*db_);
    checksums_ = std::make_unique<storage::SqliteChecksumStore>(*db_);
    handler_ = std::make_unique<DavHandler>(Backends(), DavSettings());
  }
  // What every DavHandler of a test works on (one lock store per database, as in DavServer).
  DavBackends Backends() {
    return DavBackends{*fs_, *props_, *locks_, *journal_, clock_, *checksums_};
  }
  void TearDown() override {
    handler_.reset();
    checksums_.reset();
    locks_.reset();
    journal_.reset();
    props_.reset();
    db_.reset();
    fs_.reset();
    std::error_code ec;
    if (!root_.empty()) fsys::remove_all(root_, ec);
  }

  Response Do(DavHandler& handler, const std::string& method, const std::string& target,
              HeaderMap headers = {}, const std::string& body = "", int64_t content_length = -3) {
    DavRequest req;
    req.method = method;
    req.target = target;
    req.host = "localhost:8080";
    req.headers = std::move(headers);
    std::istringstream in(body);
    req.body = &in;
    req.content_length = content_length == -3 ? static_cast<int64_t>(body.size()) : content_length;
    Progress progress;
    req.progress = &progress;
    FakeSink sink(method == "HEAD");
    handler.Handle(req, sink);
    EXPECT_TRUE(sink.sent()) << method << " " << target << " sent no response";
    Response r;
    r.status = sink.status;
    r.headers = sink.headers;
    r.content_length = sink.content_length;
    r.body = sink.body.str();
    if (r.content_length >= 0 && r.status != 304 && method != "HEAD") {
      EXPECT_EQ(static_cast<int64_t>(r.body.size()), r.content_length)
          << method << " " << target << ": body does not match Content-Length";
    }
    return r;
  }
  Response Do(const std::string& method, const std::string& target, HeaderMap headers = {},
              const std::string& body = "", int64_t content_length = -3) {
    return Do(*handler_, method, target, std::move(headers), body, content_length);
  }

  Response Put(const std::string& target, const std::string& body, HeaderMap headers = {}) {
    return Do("PUT", target, std::move(headers), body);
  }
  Response Get(const std::string& target, HeaderMap headers = {}) {
    return Do("GET", target, std::move(headers));
  }
  Response Propfind(const std::string& target, const std::string& depth,
                    const std::string& body = "") {
    HeaderMap h;
    if (!depth.empty()) h["Depth"] = depth;
    return Do("PROPFIND", target, h, body);
  }
  Response Proppatch(const std::string& target, const std::string& body) {
    return Do("PROPPATCH", target, {}, body);
  }
  Response CopyOrMove(const std::string& method, const std::string& from,
                      const std::string& destination, HeaderMap headers = {}) {
    headers["Destination"] = destination;
    return Do(method, from, std::move(headers));
  }

  std::string ReadDisk(const std::string& rel) const {
    std::ifstream in(root_ + "/" + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool OnDisk(const std::string& rel) const { return fsys::exists(root_ + "/" + rel); }

  // The stored value of Z:color at `target` as seen through PROPFIND; "" when 404.
  std::string ColorOf(const std::string& target, const std::string& href) {
    Response r = Propfind(target, "0", PropfindBody("<Z:color/>"));
    EXPECT_EQ(r.status, 207);
    Multistatus ms(r.body);
    EXPECT_TRUE(ms.ok()) << r.body;
    FoundProp p = ms.Find(href, "urn:z", "color");
    EXPECT_NE(p.status, 0) << r.body;
    return p.status == 200 ? p.element.child_value() : "";
  }

  std::string root_;
  std::unique_ptr<storage::PosixFileSystem> fs_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::SqlitePropertyStore> props_;
  std::unique_ptr<storage::SqliteOperationJournal> journal_;
  std::unique_ptr<storage::SqliteLockStore> locks_;
  std::unique_ptr<storage::SqliteChecksumStore> checksums_;
  storage::SystemClock clock_;
  std::unique_ptr<DavHandler> handler_;
};

// ---------------------------------------------------------------------------------------------
// OPTIONS and dispatch

TEST_F(DavHandlerTest, Options) {
  for (const char* target : {"/", "*"}) {
    Response r = Do("OPTIONS", target);
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_NE(r.Header("DAV").find('1'), std::string::npos) << r.Header("DAV");
    EXPECT_NE(r.Header("Allow").find("PROPFIND"), std::string::npos);
    EXPECT_NE(r.Header("Allow").find("MKCOL"), std::string::npos);
  }
}

TEST_F(DavHandlerTest, UnknownMethodIs501WithAllow) {
  Response r = Do("BREW", "/");
  EXPECT_EQ(r.status, 501);
  EXPECT_FALSE(r.Header("Allow").empty());
}

TEST_F(DavHandlerTest, ReservedNamesDoNotExist) {
  EXPECT_EQ(Get("/.keepdav-tmp-x").status, 404);
  EXPECT_EQ(Put("/.keepdav-tmp-x", "x").status, 404);
}

// ---------------------------------------------------------------------------------------------
// MKCOL

TEST_F(DavHandlerTest, Mkcol) {
  EXPECT_EQ(Do("MKCOL", "/col").status, 201);
  EXPECT_TRUE(fsys::is_directory(root_ + "/col"));
  EXPECT_EQ(Do("MKCOL", "/col").status, 405);
  EXPECT_EQ(Do("MKCOL", "/col/sub/").status, 201);
  EXPECT_TRUE(fsys::is_directory(root_ + "/col/sub"));
}

TEST_F(DavHandlerTest, MkcolMissingParentIs409) {
  EXPECT_EQ(Do("MKCOL", "/missing/col").status, 409);
  ASSERT_EQ(Put("/file", "x").status, 201);
  EXPECT_EQ(Do("MKCOL", "/file/col").status, 409);
  EXPECT_EQ(Do("MKCOL", "/file").status, 405);
}

TEST_F(DavHandlerTest, MkcolWithBodyIs415) {
  EXPECT_EQ(Do("MKCOL", "/col", {{"Content-Type", "application/xml"}}, "<x/>").status, 415);
  EXPECT_FALSE(OnDisk("col"));
}

// ---------------------------------------------------------------------------------------------
// PUT

TEST_F(DavHandlerTest, PutCreatesThenReplaces) {
  Response r = Put("/f.txt", "hello");
  EXPECT_EQ(r.status, 201);
  EXPECT_FALSE(r.Header("ETag").empty());
  EXPECT_EQ(ReadDisk("f.txt"), "hello");
  Response again = Put("/f.txt", "bye");
  EXPECT_EQ(again.status, 204);
  EXPECT_NE(again.Header("ETag"), r.Header("ETag"));
  EXPECT_EQ(ReadDisk("f.txt"), "bye");
}

// ---------------------------------------------------------------------------------------------
// X-OC-Mtime (issue 13): rclone's owncloud vendor keeps modification times through it.

int64_t DiskMtimeNs(const std::string& file) {
  struct stat st {};
  EXPECT_EQ(::stat(file.c_str(), &st), 0) << file;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

TEST_F(DavHandlerTest, PutWithOcMtimeSetsTheModificationTime) {
  Response r = Put("/m.txt", "hello", {{"X-OC-Mtime", "1500000000.5"}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.Header("X-OC-MTime"), "accepted");
  EXPECT_EQ(DiskMtimeNs(root_ + "/m.txt"), 1500000000LL * 1000000000 + 500000000);
  // The ETag answered is the file's as it is now, with its new time.
  EXPECT_EQ(Do("HEAD", "/m.txt").Header("ETag"), r.Header("ETag"));
  EXPECT_EQ(Do("HEAD", "/m.txt").Header("Last-Modified"), "Fri, 14 Jul 2017 02:40:00 GMT");
  Response again = Put("/m.txt", "bye", {{"X-OC-Mtime", "1400000000"}});
  EXPECT_EQ(again.status, 204);
  EXPECT_EQ(again.Header("X-OC-MTime"), "accepted");
  EXPECT_EQ(DiskMtimeNs(root_ + "/m.txt"), 1400000000LL * 1000000000);
}

TEST_F(DavHandlerTest, PutWithoutOcMtimeDoesNotAnswerIt) {
  Response r = Put("/m.txt", "hello");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.Header("X-OC-MTime"), "");
}

TEST_F(DavHandlerTest, PutWithInvalidOcMtimeIs400AndWritesNothing) {
  // As Nextcloud's MtimeSanitizer: not a number (or hexadecimal) is 400.
  EXPECT_EQ(Put("/m.txt", "hello", {{"X-OC-Mtime", "yesterday"}}).status, 400);
  EXPECT_FALSE(OnDisk("m.txt"));
  ASSERT_EQ(Put("/m.txt", "old").status, 201);
  EXPECT_EQ(Put("/m.txt", "new", {{"X-OC-Mtime", "0x10"}}).status, 400);
  EXPECT_EQ(ReadDisk("m.txt"), "old");
}

TEST_F(DavHandlerTest, CopyAndMoveKeepTheModificationTime) {
  ASSERT_EQ(Put("/a.txt", "hello", {{"X-OC-Mtime", "1300000000"}}).status, 201);
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Put("/d/in.txt", "x", {{"X-OC-Mtime", "1200000000"}}).status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/a.txt", "/b.txt").status, 201);
  EXPECT_EQ(DiskMtimeNs(root_ + "/b.txt"), 1300000000LL * 1000000000);
  EXPECT_EQ(CopyOrMove("MOVE", "/b.txt", "/c.txt").status, 201);
  EXPECT_EQ(DiskMtimeNs(root_ + "/c.txt"), 1300000000LL * 1000000000);
  // Overwriting an existing file, and a collection with its members.
  EXPECT_EQ(CopyOrMove("COPY", "/a.txt", "/c.txt").status, 204);
  EXPECT_EQ(DiskMtimeNs(root_ + "/c.txt"), 1300000000LL * 1000000000);
  EXPECT_EQ(CopyOrMove("COPY", "/d/", "/e/").status, 201);
  EXPECT_EQ(DiskMtimeNs(root_ + "/e/in.txt"), 1200000000LL * 1000000000);
  EXPECT_EQ(CopyOrMove("MOVE", "/e/", "/f/").status, 201);
  EXPECT_EQ(DiskMtimeNs(root_ + "/f/in.txt"), 1200000000LL * 1000000000);
}

// ---------------------------------------------------------------------------------------------
// Checksums (issue 13): oc:checksums for rclone's owncloud vendor, Repr-Digest (RFC 9530).

const char kAbcChecksums[] =
    "SHA1:a9993e364706816aba3e25717850c26c9cd0d89d MD5:900150983cd24fb0d6963f7d28e17f72";

std::string OcChecksumsBody() {
  return "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\" "
         "xmlns:oc=\"http://owncloud.org/ns\"><d:prop><d:getcontentlength/><oc:checksums/>"
         "</d:prop></d:propfind>";
}

// The text of oc:checksum/oc:checksum at `href`, "404" when listed as missing, "" when absent.
std::string ChecksumsIn(const std::string& xml, const std::string& href) {
  Multistatus ms(xml);
  EXPECT_TRUE(ms.ok()) << xml;
  FoundProp p = ms.Find(href, "http://owncloud.org/ns", "checksums");
  if (p.status == 404) return "404";
  if (p.status != 200) return "";
  return Child(p.element, "http://owncloud.org/ns", "checksum").child_value();
}

TEST_F(DavHandlerTest, PropfindOcChecksumsOfAFileAndNotOfACollection) {
  ASSERT_EQ(Put("/abc.txt", "abc").status, 201);
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  Response r = Propfind("/abc.txt", "0", OcChecksumsBody());
  EXPECT_EQ(r.status, 207);
  EXPECT_EQ(ChecksumsIn(r.body, "/abc.txt"), kAbcChecksums);
  Response d = Propfind("/d/", "0", OcChecksumsBody());
  EXPECT_EQ(ChecksumsIn(d.body, "/d/"), "404");
  // allprop leaves it out (RFC 4918 §9.1: expensive properties may be omitted).
  EXPECT_EQ(Propfind("/abc.txt", "0").body.find("checksums"), std::string::npos);
}

TEST_F(DavHandlerTest, ChecksumsAreComputedOnceAndStored) {
  ASSERT_EQ(Put("/abc.txt", "abc").status, 201);
  auto info = fs_->Stat(ResourcePath::Parse("/abc.txt").value());
  ASSERT_TRUE(info.ok());
  storage::FileIdentity id{info->inode, info->size, info->mtime_ns, info->ctime_ns};
  EXPECT_FALSE(checksums_->Get(ResourcePath::Parse("/abc.txt").value(), id).ok());
  ASSERT_EQ(ChecksumsIn(Propfind("/abc.txt", "0", OcChecksumsBody()).body, "/abc.txt"),
            kAbcChecksums);
  auto stored = checksums_->Get(ResourcePath::Parse("/abc.txt").value(), id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST_F(DavHandlerTest, ChecksumsOfAFileChangedOutsideKeepdavAreNeverStale) {
  ASSERT_EQ(Put("/f.txt", "abc").status, 201);
  ASSERT_EQ(ChecksumsIn(Propfind("/f.txt", "0", OcChecksumsBody()).body, "/f.txt"), kAbcChecksums);
  // Same size, same mtime, written in place: only the ctime tells (what rclone check must see).
  struct stat before {};
  ASSERT_EQ(::stat((root_ + "/f.txt").c_str(), &before), 0);
  usleep(20000);
  {
    std::ofstream out(root_ + "/f.txt", std::ios::binary | std::ios::in);
    out << "abd";
  }
  struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root_ + "/f.txt").c_str(), times, 0), 0);
  std::string now = ChecksumsIn(Propfind("/f.txt", "0", OcChecksumsBody()).body, "/f.txt");
  EXPECT_NE(now, kAbcChecksums);
  EXPECT_EQ(now.substr(0, 45), "SHA1:cb4cc28df0fdbe0ecf9d9662e294b118092a5735");  // sha1("abd")
}

TEST_F(DavHandlerTest, ListingComputesWithinItsBudget) {
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Put("/d/a", "abc").status, 201);
  ASSERT_EQ(Put("/d/b", "abc").status, 201);
  DavSettings settings;
  settings.checksum_listing_budget_bytes = 0;  // never compute in a listing
  DavHandler frugal(Backends(), settings);
  Response cold = Do(frugal, "PROPFIND", "/d/", {{"Depth", "1"}}, OcChecksumsBody());
  EXPECT_EQ(ChecksumsIn(cold.body, "/d/a"), "404");
  EXPECT_EQ(ChecksumsIn(cold.body, "/d/b"), "404");
  // Once stored (by a handler that may compute), the frugal one lists them.
  ASSERT_EQ(ChecksumsIn(Propfind("/d/a", "0", OcChecksumsBody()).body, "/d/a"), kAbcChecksums);
  Response warm = Do(frugal, "PROPFIND", "/d/", {{"Depth", "1"}}, OcChecksumsBody());
  EXPECT_EQ(ChecksumsIn(warm.body, "/d/a"), kAbcChecksums);
  EXPECT_EQ(ChecksumsIn(warm.body, "/d/b"), "404");
  // With a 1-byte budget the first cold file is computed, then the budget is spent.
  settings.checksum_listing_budget_bytes = 1;
  ASSERT_EQ(Put("/d/c", "abc").status, 201);
  DavHandler one(Backends(), settings);
  Response some = Do(one, "PROPFIND", "/d/", {{"Depth", "1"}}, OcChecksumsBody());
  int computed = (ChecksumsIn(some.body, "/d/b") == kAbcChecksums) +
                 (ChecksumsIn(some.body, "/d/c") == kAbcChecksums);
  EXPECT_EQ(computed, 1);
  // The default budget computes the whole folder.
  Response all = Propfind("/d/", "1", OcChecksumsBody());
  for (const char* href : {"/d/a", "/d/b", "/d/c"}) {
    EXPECT_EQ(ChecksumsIn(all.body, href), kAbcChecksums) << href;
  }
}

TEST_F(DavHandlerTest, GetAnswersReprDigestWhenAsked) {
  ASSERT_EQ(Put("/abc.txt", "abc").status, 201);
  EXPECT_EQ(Get("/abc.txt").Header("Repr-Digest"), "");
  Response r = Get("/abc.txt", {{"Want-Repr-Digest", "sha-256=10, sha=3"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.Header("Repr-Digest"),
            "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:, "
            "sha=:qZk+NkcGgWq6PiVxeFDCbJzQ2J0=:");
  Response head = Do("HEAD", "/abc.txt", {{"Want-Repr-Digest", "sha-256=1"}});
  EXPECT_EQ(head.Header("Repr-Digest"), "sha-256=:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=:");
  // A range still gets the digest of the whole representation (RFC 9530 §3).
  Response part = Get("/abc.txt", {{"Range", "bytes=0-0"}, {"Want-Repr-Digest", "sha-256=1"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.Header("Repr-Digest"), head.Header("Repr-Digest"));
}

TEST_F(DavHandlerTest, CopyAndMoveCarryTheChecksumsDeleteDropsThem) {
  ASSERT_EQ(Put("/a.txt", "abc").status, 201);
  ASSERT_EQ(ChecksumsIn(Propfind("/a.txt", "0", OcChecksumsBody()).body, "/a.txt"), kAbcChecksums);
  auto stored_at = [&](const std::string& p) {
    ResourcePath path = ResourcePath::Parse(p).value();
    auto info = fs_->Stat(path);
    if (!info.ok()) return false;
    return checksums_->Get(path, {info->inode, info->size, info->mtime_ns, info->ctime_ns}).ok();
  };
  EXPECT_EQ(CopyOrMove("COPY", "/a.txt", "/b.txt").status, 201);
  EXPECT_TRUE(stored_at("/b.txt"));  // carried, not computed: no PROPFIND of /b.txt yet
  EXPECT_EQ(CopyOrMove("MOVE", "/b.txt", "/c.txt").status, 201);
  EXPECT_TRUE(stored_at("/c.txt"));
  ResourcePath b = ResourcePath::Parse("/b.txt").value();
  EXPECT_FALSE(checksums_->Get(b, {}).ok());
  EXPECT_EQ(Do("DELETE", "/c.txt").status, 204);
  ASSERT_EQ(Put("/c.txt", "xyz").status, 201);
  EXPECT_FALSE(stored_at("/c.txt"));
  // A collection moved keeps its members' rows (the inodes stay).
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Put("/d/in", "abc").status, 201);
  ASSERT_EQ(ChecksumsIn(Propfind("/d/in", "0", OcChecksumsBody()).body, "/d/in"), kAbcChecksums);
  EXPECT_EQ(CopyOrMove("MOVE", "/d/", "/e/").status, 201);
  EXPECT_TRUE(stored_at("/e/in"));
}

// `curl -w '%{http_code}\n'` printed "...already exists405" when error bodies lacked a newline.
TEST_F(DavHandlerTest, ErrorBodiesEndWithANewline) {
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  Response text = Do("MKCOL", "/d");
  EXPECT_EQ(text.status, 405);
  ASSERT_FALSE(text.body.empty());
  EXPECT_EQ(text.body.back(), '\n') << text.body;
  Response xml = Propfind("/", "infinity", "<not-xml");
  ASSERT_FALSE(xml.body.empty());
  EXPECT_EQ(xml.body.back(), '\n') << xml.body;
}

TEST_F(DavHandlerTest, PutEmptyFile) {
  EXPECT_EQ(Put("/empty", "").status, 201);
  EXPECT_TRUE(OnDisk("empty"));
  EXPECT_EQ(ReadDisk("empty"), "");
}

TEST_F(DavHandlerTest, PutDecodesTheTarget) {
  EXPECT_EQ(Put("/a%20b", "x").status, 201);
  EXPECT_TRUE(OnDisk("a b"));
  EXPECT_EQ(Get("/a%20b").body, "x");
}

TEST_F(DavHandlerTest, PutMissingParentIs409) {
  EXPECT_EQ(Put("/missing/f", "x").status, 409);
  ASSERT_EQ(Put("/file", "x").status, 201);
  EXPECT_EQ(Put("/file/f", "x").status, 409);
}

TEST_F(DavHandlerTest, PutOnCollectionIs405) {
  ASSERT_EQ(Do("MKCOL", "/col").status, 201);
  EXPECT_EQ(Put("/col", "x").status, 405);
  EXPECT_TRUE(fsys::is_directory(root_ + "/col"));
}

TEST_F(DavHandlerTest, PutWithContentRangeIs400) {
  EXPECT_EQ(Put("/f", "x", {{"Content-Range", "bytes 0-0/1"}}).status, 400);
  EXPECT_FALSE(OnDisk("f"));
}

// ---------------------------------------------------------------------------------------------
// Partial uploads (issue 13): SabreDAV's PATCH + X-Update-Range, mod_dav's PUT + Content-Range.

TEST_F(DavHandlerTest, PatchWritesEachUpdateRangeForm) {
  auto patch = [&](const std::string& range, const std::string& body) {
    HeaderMap h{{"Content-Type", "application/x-sabredav-partialupdate"},
                {"X-Update-Range", range}};
    return Do("PATCH", "/f", h, body);
  };
  ASSERT_EQ(Put("/f", "0123456789").status, 201);
  Response r = patch("bytes=2-4", "abc");
  EXPECT_EQ(r.status, 204);
  EXPECT_FALSE(r.Header("ETag").empty());
  EXPECT_EQ(ReadDisk("f"), "01abc56789");
  EXPECT_EQ(patch("bytes=8-", "XYZ").status, 204);  // past the old end: grows
  EXPECT_EQ(ReadDisk("f"), "01abc567XYZ");
  EXPECT_EQ(patch("append", "++").status, 204);
  EXPECT_EQ(ReadDisk("f"), "01abc567XYZ++");
  EXPECT_EQ(patch("bytes=-2", "--").status, 204);
  EXPECT_EQ(ReadDisk("f"), "01abc567XYZ--");
  EXPECT_EQ(Get("/f").Header("ETag"), patch("bytes=0-0", "#").Header("ETag"));
  EXPECT_EQ(ReadDisk("f"), "#1abc567XYZ--");
}

TEST_F(DavHandlerTest, PatchRefusals) {
  ASSERT_EQ(Put("/f", "0123").status, 201);
  HeaderMap h{{"Content-Type", "application/x-sabredav-partialupdate"},
              {"X-Update-Range", "bytes=0-1"}};
  EXPECT_EQ(Do("PATCH", "/f", {{"X-Update-Range", "bytes=0-1"}}, "ab").status, 415);
  EXPECT_EQ(
      Do("PATCH", "/f", {{"Content-Type", "application/x-sabredav-partialupdate"}}, "ab").status,
      400);
  EXPECT_EQ(Do("PATCH", "/f", h, "abc").status, 400);  // longer than the range
  h["X-Update-Range"] = "bytes=5-";
  Response past = Do("PATCH", "/f", h, "x");
  EXPECT_EQ(past.status, 416);
  EXPECT_EQ(past.Header("Content-Range"), "bytes */4");
  h["X-Update-Range"] = "bytes=nonsense";
  EXPECT_EQ(Do("PATCH", "/f", h, "x").status, 400);
  h["X-Update-Range"] = "append";
  EXPECT_EQ(Do("PATCH", "/missing", h, "x").status, 404);
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  EXPECT_EQ(Do("PATCH", "/d/", h, "x").status, 405);
  EXPECT_EQ(Do("PATCH", "/f", h, "x", /*content_length=*/-1).status, 411);
  EXPECT_EQ(ReadDisk("f"), "0123");  // none of them changed it
  DavSettings off;
  off.partial_updates = false;
  DavHandler plain(Backends(), off);
  EXPECT_EQ(Do(plain, "PATCH", "/f", h, "x").status, 405);
  EXPECT_EQ(Do(plain, "PUT", "/f", {{"Content-Range", "bytes 0-0/4"}}, "x").status, 400);
  EXPECT_EQ(Do(plain, "OPTIONS", "/").Header("DAV"), "1, 2");
  EXPECT_EQ(Do("OPTIONS", "/").Header("DAV"), "1, 2, sabredav-partialupdate");
  EXPECT_NE(Do("OPTIONS", "/").Header("Allow").find("PATCH"), std::string::npos);
}

TEST_F(DavHandlerTest, PatchHonoursIfMatch) {
  Response put = Put("/f", "0123");
  ASSERT_EQ(put.status, 201);
  HeaderMap h{{"Content-Type", "application/x-sabredav-partialupdate"},
              {"X-Update-Range", "append"},
              {"If-Match", "\"not-the-etag\""}};
  EXPECT_EQ(Do("PATCH", "/f", h, "x").status, 412);
  EXPECT_EQ(ReadDisk("f"), "0123");
  h["If-Match"] = put.Header("ETag");
  EXPECT_EQ(Do("PATCH", "/f", h, "x").status, 204);
  EXPECT_EQ(ReadDisk("f"), "0123x");
  // The ETag changed with the content: the old one no longer matches.
  EXPECT_EQ(Do("PATCH", "/f", h, "y").status, 412);
}

TEST_F(DavHandlerTest, PutWithContentRangeResumesAnExistingFile) {
  ASSERT_EQ(Put("/f", "hello").status, 201);
  Response r = Put("/f", " world", {{"Content-Range", "bytes 5-10/11"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(ReadDisk("f"), "hello world");
  EXPECT_EQ(Put("/f", "J", {{"Content-Range", "bytes 0-0/*"}}).status, 204);
  EXPECT_EQ(ReadDisk("f"), "Jello world");
  EXPECT_EQ(Put("/f", "xx", {{"Content-Range", "bytes 20-21/22"}}).status, 416);
  EXPECT_EQ(Put("/f", "xx", {{"Content-Range", "bytes 0-0/22"}}).status, 400);
  EXPECT_EQ(ReadDisk("f"), "Jello world");
}

TEST_F(DavHandlerTest, PatchWithAShortBodyLeavesTheFileAsItWas) {
  ASSERT_EQ(Put("/f", "0123456789").status, 201);
  HeaderMap h{{"Content-Type", "application/x-sabredav-partialupdate"},
              {"X-Update-Range", "bytes=2-"}};
  // Content-Length says 12, the body has 4 bytes: it was cut off.
  EXPECT_EQ(Do("PATCH", "/f", h, "abcd", /*content_length=*/12).status, 400);
  EXPECT_EQ(ReadDisk("f"), "0123456789");
  EXPECT_TRUE(journal_->PendingPartialWrites()->empty());
}

TEST_F(DavHandlerTest, PutShortBodyIs400AndKeepsOldContent) {
  ASSERT_EQ(Put("/f", "old").status, 201);
  EXPECT_EQ(Do("PUT", "/f", {}, "new", /*content_length=*/10).status, 400);
  EXPECT_EQ(ReadDisk("f"), "old");
  // No temporary file left visible.
  EXPECT_EQ(std::distance(fsys::directory_iterator(root_), fsys::directory_iterator()), 1);
}

TEST_F(DavHandlerTest, PutConditional) {
  Response created = Put("/f", "v1");
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(Put("/f", "v2", {{"If-Match", "\"nope\""}}).status, 412);
  EXPECT_EQ(Put("/f", "v2", {{"If-None-Match", "*"}}).status, 412);
  EXPECT_EQ(ReadDisk("f"), "v1");
  EXPECT_EQ(Put("/f", "v2", {{"If-Match", created.Header("ETag")}}).status, 204);
  EXPECT_EQ(Put("/g", "new", {{"If-None-Match", "*"}}).status, 201);
}

// ---------------------------------------------------------------------------------------------
// GET / HEAD

TEST_F(DavHandlerTest, GetFile) {
  ASSERT_EQ(Put("/f.txt", "hello").status, 201);
  Response r = Get("/f.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.content_length, 5);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r.Header("ETag").empty());
  EXPECT_FALSE(r.Header("Last-Modified").empty());
  EXPECT_EQ(Get("/missing").status, 404);
}

TEST_F(DavHandlerTest, Head) {
  ASSERT_EQ(Put("/f.txt", "hello").status, 201);
  Response r = Do("HEAD", "/f.txt");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_length, 5);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(Do("HEAD", "/missing").status, 404);
}

TEST_F(DavHandlerTest, GetRange) {
  ASSERT_EQ(Put("/f", "0123456789").status, 201);
  Response r = Get("/f", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "2345");
  EXPECT_EQ(r.Header("Content-Range"), "bytes 2-5/10");
  EXPECT_EQ(r.content_length, 4);

  r = Get("/f", {{"Range", "bytes=-3"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "789");
  EXPECT_EQ(r.Header("Content-Range"), "bytes 7-9/10");

  r = Get("/f", {{"Range", "bytes=8-"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "89");

  r = Get("/f", {{"Range", "bytes=5-100"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "56789");
  EXPECT_EQ(r.Header("Content-Range"), "bytes 5-9/10");
}

TEST_F(DavHandlerTest, GetUnsatisfiableRangeIs416) {
  ASSERT_EQ(Put("/f", "0123456789").status, 201);
  Response r = Get("/f", {{"Range", "bytes=10-"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("Content-Range"), "bytes */10");
}

TEST_F(DavHandlerTest, GetIgnoresRangeWhenIfRangeDoesNotMatch) {
  ASSERT_EQ(Put("/f", "0123456789").status, 201);
  Response r = Get("/f", {{"Range", "bytes=2-5"}, {"If-Range", "\"old\""}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "0123456789");
}

TEST_F(DavHandlerTest, GetIfNoneMatchIs304) {
  ASSERT_EQ(Put("/f", "data").status, 201);
  std::string etag = Get("/f").Header("ETag");
  ASSERT_FALSE(etag.empty());
  Response r = Get("/f", {{"If-None-Match", etag}});
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.Header("ETag"), etag);
  EXPECT_EQ(Get("/f", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(Get("/f", {{"If-Match", "\"other\""}}).status, 412);
}

TEST_F(DavHandlerTest, GetCollectionListsMembers) {
  ASSERT_EQ(Do("MKCOL", "/dir").status, 201);
  ASSERT_EQ(Put("/dir/a%20%3Cb%3E.txt", "x").status, 201);
  Response r = Get("/dir/");
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("/dir/a%20%3Cb%3E.txt"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("<b>"), std::string::npos) << "member name not escaped";
}

// The page's markup is the contract of webdav/assets/README.md (the script and the browser tests
// rely on it): the body's data-*, breadcrumbs, a row per member with its data-* and cells, the
// summary, and the policy that lets nothing but the server's own assets run.
TEST_F(DavHandlerTest, CollectionPageFollowsItsContract) {
  ASSERT_EQ(Do("MKCOL", "/a").status, 201);
  ASSERT_EQ(Do("MKCOL", "/a/b%20c").status, 201);
  ASSERT_EQ(Do("MKCOL", "/a/b%20c/sub").status, 201);
  ASSERT_EQ(Put("/a/b%20c/photo.PNG", std::string(2048, 'p')).status, 201);
  ASSERT_EQ(Put("/a/b%20c/%27q%27%26.txt", "12345").status, 201);
  Response r = Get("/a/b%20c/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Security-Policy"), kPagePolicy);
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  const std::string& b = r.body;
  EXPECT_NE(b.find("<body data-folder=\"/a/b%20c/\" data-writable=\"true\" "
                   "data-partial=\"true\">"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("<nav id=\"crumbs\" aria-label=\"Breadcrumbs\"><a href=\"/\">Home</a> / "
                   "<a href=\"/a/\">a</a> / <span aria-current=\"page\">b c</span></nav>"),
            std::string::npos)
      << b;
  EXPECT_NE(b.find("<tr class=\"up\"><td class=\"name\"><a href=\"/a/\">"), std::string::npos);
  EXPECT_NE(b.find("<script src=\"/.keepdav-assets/browser.js\" defer></script>"),
            std::string::npos);
  // Icons come from the stylesheet by data-kind: no element per row for them.
  EXPECT_EQ(b.find("<svg"), std::string::npos);
  // Folders first, then by name without case; each with its data-* and cells.
  const size_t sub = b.find("data-name=\"sub\" data-href=\"/a/b%20c/sub/\" data-kind=\"folder\"");
  const size_t quote = b.find(
      "data-name=\"&apos;q&apos;&amp;.txt\" data-href=\"/a/b%20c/%27q%27%26.txt\" "
      "data-kind=\"text\" data-size=\"5\"");
  const size_t photo = b.find(
      "data-name=\"photo.PNG\" data-href=\"/a/b%20c/photo.PNG\" "
      "data-kind=\"image\" data-size=\"2048\"");
  ASSERT_NE(sub, std::string::npos) << b;
  ASSERT_NE(quote, std::string::npos) << b;
  ASSERT_NE(photo, std::string::npos) << b;
  EXPECT_LT(sub, quote);
  EXPECT_LT(quote, photo);
  EXPECT_NE(b.find("<td class=\"size\" title=\"2,048 bytes\">2.0 KB</td>"), std::string::npos);
  EXPECT_NE(b.find("<a href=\"/a/b%20c/photo.PNG\"><span>photo.PNG</span></a>"), std::string::npos);
  EXPECT_NE(b.find("<td class=\"mtime\"><time datetime=\"20"), std::string::npos);
  EXPECT_NE(b.find("<p id=\"summary\">1 folder, 2 files, 2.0 KB</p>"), std::string::npos) << b;
  EXPECT_EQ(b.find("'q'"), std::string::npos) << "a name not escaped";

  // The root: "Home" alone, no parent row; HEAD has the headers and no body.
  Response root = Get("/");
  EXPECT_NE(root.body.find("<span aria-current=\"page\">Home</span></nav>"), std::string::npos);
  EXPECT_EQ(root.body.find("<tr class=\"up\">"), std::string::npos);

  DavSettings settings;
  settings.read_only = true;
  settings.partial_updates = false;
  DavHandler reader(Backends(), settings);
  Response ro = Do(reader, "GET", "/a/", {}, "");
  EXPECT_NE(ro.body.find("data-writable=\"false\" data-partial=\"false\""), std::string::npos);
}

TEST_F(DavHandlerTest, AssetsComeFromTheReservedPath) {
  for (const char* name : {"browser.js", "browser.css"}) {
    EXPECT_FALSE(BrowserAsset(name).empty()) << name;
  }
  Response js = Get("/.keepdav-assets/browser.js");
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.body, BrowserAsset("browser.js"));
  EXPECT_EQ(js.Header("X-Content-Type-Options"), "nosniff");
  const std::string etag = js.Header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(Get("/.keepdav-assets/browser.js", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(Get("/.keepdav-assets/browser.css").Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Get("/.keepdav-assets/browser.js?v=2").status, 200);
  EXPECT_EQ(Get("/.keepdav-assets/README.md").status, 404);
  EXPECT_EQ(Get("/.keepdav-assets/").status, 404);
  EXPECT_EQ(Get("/.keepdav-assets/nothing.js").status, 404);
}

// A page or SVG someone stored runs sandboxed when opened: it cannot script the browser page
// with the credentials of whoever opens it.
TEST_F(DavHandlerTest, StoredPagesAreSandboxed) {
  ASSERT_EQ(Put("/p.html", "<script>fetch('/x',{method:'DELETE'})</script>").status, 201);
  ASSERT_EQ(Put("/i.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>").status, 201);
  ASSERT_EQ(Put("/t.txt", "text").status, 201);
  EXPECT_EQ(Get("/p.html").Header("Content-Security-Policy"), "sandbox");
  EXPECT_EQ(Get("/i.svg").Header("Content-Security-Policy"), "sandbox");
  EXPECT_EQ(Get("/t.txt").Header("Content-Security-Policy"), "");
}

TEST(BrowserPageTest, SizesAndKinds) {
  EXPECT_EQ(HumanSize(0), "0 B");
  EXPECT_EQ(HumanSize(1023), "1023 B");
  EXPECT_EQ(HumanSize(1024), "1.0 KB");
  EXPECT_EQ(HumanSize(1536), "1.5 KB");
  EXPECT_EQ(HumanSize(50ULL << 20), "50 MB");
  EXPECT_EQ(HumanSize(3ULL << 40), "3.0 TB");
  EXPECT_EQ(ExactBytes(1), "1 byte");
  EXPECT_EQ(ExactBytes(1234567), "1,234,567 bytes");
  EXPECT_EQ(ExactBytes(123), "123 bytes");
  EXPECT_STREQ(KindOf("x", true), "folder");
  EXPECT_STREQ(KindOf("a.JPG", false), "image");
  EXPECT_STREQ(KindOf("notes.md", false), "text");
  EXPECT_STREQ(KindOf("main.cc", false), "code");
  EXPECT_STREQ(KindOf("b.tar.gz", false), "archive");
  EXPECT_STREQ(KindOf(".png", false), "file");
  EXPECT_STREQ(KindOf("README", false), "file");
}

// ---------------------------------------------------------------------------------------------
// DELETE

TEST_F(DavHandlerTest, DeleteFile) {
  ASSERT_EQ(Put("/f", "x").status, 201);
  EXPECT_EQ(Do("DELETE", "/f").status, 204);
  EXPECT_FALSE(OnDisk("f"));
  EXPECT_EQ(Get("/f").status, 404);
  EXPECT_EQ(Do("DELETE", "/f").status, 404);
}

TEST_F(DavHandlerTest, DeleteRootIsForbidden) {
  EXPECT_EQ(Do("DELETE", "/").status, 403);
}

TEST_F(DavHandlerTest, DeleteTreeRemovesProperties) {
  ASSERT_EQ(Do("MKCOL", "/t").status, 201);
  ASSERT_EQ(Put("/t/x", "x").status, 201);
  ASSERT_EQ(Do("MKCOL", "/t/sub").status, 201);
  ASSERT_EQ(Put("/t/sub/y", "y").status, 201);
  ASSERT_EQ(Proppatch("/t", SetColor("red")).status, 207);
  ASSERT_EQ(Proppatch("/t/sub/y", SetColor("blue")).status, 207);
  ASSERT_EQ(Put("/tt", "sibling with a shared prefix").status, 201);
  ASSERT_EQ(Proppatch("/tt", SetColor("green")).status, 207);
  auto before = props_->PathsUnder(*ResourcePath::Parse("/t"));
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 2u);

  EXPECT_EQ(Do("DELETE", "/t").status, 204);
  EXPECT_FALSE(OnDisk("t"));
  auto after = props_->PathsUnder(*ResourcePath::Parse("/t"));
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  // Recreating the tree does not bring the old properties back.
  ASSERT_EQ(Do("MKCOL", "/t").status, 201);
  EXPECT_EQ(ColorOf("/t", "/t/"), "");
  // The sibling is untouched.
  EXPECT_EQ(ColorOf("/tt", "/tt"), "green");
}

TEST_F(DavHandlerTest, DeleteCollectionWithDepthZeroIs400) {
  ASSERT_EQ(Do("MKCOL", "/t").status, 201);
  EXPECT_EQ(Do("DELETE", "/t", {{"Depth", "0"}}).status, 400);
  EXPECT_TRUE(OnDisk("t"));
}

// ---------------------------------------------------------------------------------------------
// COPY / MOVE

TEST_F(DavHandlerTest, CopyFile) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/dst").status, 201);
  EXPECT_EQ(ReadDisk("dst"), "data");
  EXPECT_EQ(ReadDisk("src"), "data");
  ASSERT_EQ(Put("/src", "newer").status, 204);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/dst").status, 204);
  EXPECT_EQ(ReadDisk("dst"), "newer");
  // An absolute path is a Destination on this server too.
  EXPECT_EQ(CopyOrMove("COPY", "/src", "/dst2").status, 201);
  EXPECT_EQ(ReadDisk("dst2"), "newer");
  // Percent-encoded destination.
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/a%20c").status, 201);
  EXPECT_TRUE(OnDisk("a c"));
}

TEST_F(DavHandlerTest, CopyOverwriteFalseIs412) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  ASSERT_EQ(Put("/dst", "keep").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/dst", {{"Overwrite", "F"}}).status,
            412);
  EXPECT_EQ(ReadDisk("dst"), "keep");
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/new", {{"Overwrite", "F"}}).status,
            201);
}

TEST_F(DavHandlerTest, CopyMissingDestinationParentIs409) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/nope/dst").status, 409);
  EXPECT_EQ(CopyOrMove("MOVE", "/src", "http://localhost:8080/nope/dst").status, 409);
  EXPECT_TRUE(OnDisk("src"));
}

TEST_F(DavHandlerTest, CopyOntoItselfIs403) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/src").status, 403);
  EXPECT_EQ(CopyOrMove("MOVE", "/src", "/src").status, 403);
  ASSERT_EQ(Do("MKCOL", "/dir").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/dir", "/dir/inside").status, 403);
  EXPECT_EQ(ReadDisk("src"), "data");
}

TEST_F(DavHandlerTest, DestinationOnAnotherServerIs502) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://example.com/dst").status, 502);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:9999/dst").status, 502);
  EXPECT_EQ(CopyOrMove("MOVE", "/src", "http://example.com:8080/dst").status, 502);
  EXPECT_FALSE(OnDisk("dst"));
}

TEST_F(DavHandlerTest, CopyMissingSourceIs404AndMissingDestinationHeaderIs400) {
  EXPECT_EQ(CopyOrMove("COPY", "/none", "/dst").status, 404);
  ASSERT_EQ(Put("/src", "data").status, 201);
  EXPECT_EQ(Do("COPY", "/src").status, 400);
}

TEST_F(DavHandlerTest, DeadPropertiesTravelWithCopy) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  ASSERT_EQ(Proppatch("/src", SetColor("red")).status, 207);
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://localhost:8080/copy").status, 201);
  EXPECT_EQ(ColorOf("/copy", "/copy"), "red");
  EXPECT_EQ(ColorOf("/src", "/src"), "red");
  // Changing the copy does not change the source.
  ASSERT_EQ(Proppatch("/copy", SetColor("blue")).status, 207);
  EXPECT_EQ(ColorOf("/src", "/src"), "red");
}

TEST_F(DavHandlerTest, DeadPropertiesTravelWithCollectionCopy) {
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Do("MKCOL", "/d/sub").status, 201);
  ASSERT_EQ(Put("/d/sub/a", "a").status, 201);
  ASSERT_EQ(Proppatch("/d", SetColor("red")).status, 207);
  ASSERT_EQ(Proppatch("/d/sub/a", SetColor("blue")).status, 207);
  EXPECT_EQ(CopyOrMove("COPY", "/d", "/e").status, 201);
  EXPECT_EQ(ReadDisk("e/sub/a"), "a");
  EXPECT_EQ(ColorOf("/e", "/e/"), "red");
  EXPECT_EQ(ColorOf("/e/sub/a", "/e/sub/a"), "blue");

  // Depth 0: the collection and its own properties only.
  EXPECT_EQ(CopyOrMove("COPY", "/d", "/f", {{"Depth", "0"}}).status, 201);
  EXPECT_TRUE(fsys::is_directory(root_ + "/f"));
  EXPECT_FALSE(OnDisk("f/sub"));
  EXPECT_EQ(ColorOf("/f", "/f/"), "red");
}

TEST_F(DavHandlerTest, Move) {
  ASSERT_EQ(Put("/m", "data").status, 201);
  ASSERT_EQ(Proppatch("/m", SetColor("red")).status, 207);
  EXPECT_EQ(CopyOrMove("MOVE", "/m", "http://localhost:8080/m2").status, 201);
  EXPECT_FALSE(OnDisk("m"));
  EXPECT_EQ(ReadDisk("m2"), "data");
  EXPECT_EQ(Get("/m").status, 404);
  EXPECT_EQ(ColorOf("/m2", "/m2"), "red");
  auto old_props = props_->PathsUnder(*ResourcePath::Parse("/m"));
  ASSERT_TRUE(old_props.ok());
  EXPECT_TRUE(old_props->empty());

  ASSERT_EQ(Put("/other", "other").status, 201);
  EXPECT_EQ(CopyOrMove("MOVE", "/other", "/m2", {{"Overwrite", "F"}}).status, 412);
  EXPECT_EQ(CopyOrMove("MOVE", "/other", "/m2").status, 204);
  EXPECT_EQ(ReadDisk("m2"), "other");
  // The overwritten destination's properties are gone.
  EXPECT_EQ(ColorOf("/m2", "/m2"), "");
}

TEST_F(DavHandlerTest, MoveCollection) {
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Put("/d/a", "a").status, 201);
  ASSERT_EQ(Proppatch("/d/a", SetColor("blue")).status, 207);
  EXPECT_EQ(CopyOrMove("MOVE", "/d", "/e").status, 201);
  EXPECT_FALSE(OnDisk("d"));
  EXPECT_EQ(ReadDisk("e/a"), "a");
  EXPECT_EQ(ColorOf("/e/a", "/e/a"), "blue");
  EXPECT_EQ(CopyOrMove("MOVE", "/e", "/f", {{"Depth", "0"}}).status, 400);
}

// ---------------------------------------------------------------------------------------------
// PROPFIND

class PropfindTest : public DavHandlerTest {
 protected:
  void SetUp() override {
    DavHandlerTest::SetUp();
    ASSERT_EQ(Do("MKCOL", "/p").status, 201);
    ASSERT_EQ(Put("/p/a.txt", "aaa").status, 201);
    ASSERT_EQ(Put("/p/b%20c", "b").status, 201);
    ASSERT_EQ(Do("MKCOL", "/p/sub").status, 201);
    ASSERT_EQ(Put("/p/sub/c", "c").status, 201);
  }
};

TEST_F(PropfindTest, DepthCounts) {
  Response r0 = Propfind("/p", "0");
  ASSERT_EQ(r0.status, 207);
  EXPECT_NE(r0.Header("Content-Type").find("xml"), std::string::npos);
  Multistatus ms0(r0.body);
  ASSERT_TRUE(ms0.ok()) << r0.body;
  EXPECT_EQ(ms0.Hrefs(), std::vector<std::string>{"/p/"});

  Response r1 = Propfind("/p", "1");
  Multistatus ms1(r1.body);
  ASSERT_TRUE(ms1.ok()) << r1.body;
  auto hrefs = ms1.Hrefs();
  std::sort(hrefs.begin(), hrefs.end());
  EXPECT_EQ(hrefs, (std::vector<std::string>{"/p/", "/p/a.txt", "/p/b%20c", "/p/sub/"}));

  Response rinf = Propfind("/p", "infinity");
  Multistatus msinf(rinf.body);
  ASSERT_TRUE(msinf.ok()) << rinf.body;
  EXPECT_EQ(msinf.Responses().size(), 5u);

  // No Depth header means infinity (RFC 4918 §9.1).
  Multistatus msdefault(Propfind("/p", "").body);
  EXPECT_EQ(msdefault.Responses().size(), 5u);
}

TEST_F(PropfindTest, AllpropValues) {
  Response r = Propfind("/p/a.txt", "0");
  ASSERT_EQ(r.status, 207);
  Multistatus ms(r.body);
  ASSERT_TRUE(ms.ok()) << r.body;
  FoundProp len = ms.Find("/p/a.txt", "DAV:", "getcontentlength");
  EXPECT_EQ(len.status, 200);
  EXPECT_STREQ(len.element.child_value(), "3");
  FoundProp type = ms.Find("/p/a.txt", "DAV:", "getcontenttype");
  EXPECT_EQ(type.status, 200);
  EXPECT_STREQ(type.element.child_value(), "text/plain; charset=utf-8");
  FoundProp etag = ms.Find("/p/a.txt", "DAV:", "getetag");
  EXPECT_EQ(etag.status, 200);
  EXPECT_EQ(etag.element.child_value(), Get("/p/a.txt").Header("ETag"));
  FoundProp rt = ms.Find("/p/a.txt", "DAV:", "resourcetype");
  EXPECT_EQ(rt.status, 200);
  EXPECT_FALSE(rt.element.first_child());
  // RFC 4331 quota properties are not part of allprop.
  EXPECT_EQ(ms.Find("/p/a.txt", "DAV:", "quota-used-bytes").status, 0);

  Multistatus dir(Propfind("/p", "0").body);
  FoundProp drt = dir.Find("/p/", "DAV:", "resourcetype");
  ASSERT_EQ(drt.status, 200);
  EXPECT_TRUE(Is(drt.element.first_child(), "DAV:", "collection"));
  EXPECT_EQ(dir.Find("/p/", "DAV:", "getcontentlength").status, 0);
}

TEST_F(PropfindTest, UnknownPropertyIs404Propstat) {
  Response r = Propfind("/p/a.txt", "0",
                        PropfindBody("<D:getcontentlength/><Z:unknown/><nons xmlns=\"\"/>"));
  ASSERT_EQ(r.status, 207);
  Multistatus ms(r.body);
  ASSERT_TRUE(ms.ok()) << r.body;
  EXPECT_EQ(ms.Find("/p/a.txt", "DAV:", "getcontentlength").status, 200);
  EXPECT_EQ(ms.Find("/p/a.txt", "urn:z", "unknown").status, 404);
  EXPECT_EQ(ms.Find("/p/a.txt", "", "nons").status, 404);
  // getcontentlength is not defined on a collection.
  Multistatus dir(Propfind("/p", "0", PropfindBody("<D:getcontentlength/>")).body);
  EXPECT_EQ(dir.Find("/p/", "DAV:", "getcontentlength").status, 404);
}

TEST_F(PropfindTest, Propname) {
  ASSERT_EQ(Proppatch("/p/a.txt", SetColor("red")).status, 207);
  Response r = Propfind("/p/a.txt", "0", "<D:propfind xmlns:D=\"DAV:\"><D:propname/></D:propfind>");
  ASSERT_EQ(r.status, 207);
  Multistatus ms(r.body);
  ASSERT_TRUE(ms.ok()) << r.body;
  FoundProp color = ms.Find("/p/a.txt", "urn:z", "color");
  EXPECT_EQ(color.status, 200);
  EXPECT_FALSE(color.element.first_child()) << "propname returns names only";
  EXPECT_EQ(ms.Find("/p/a.txt", "DAV:", "getetag").status, 200);
}

TEST_F(PropfindTest, BadDepthIs400) {
  EXPECT_EQ(Propfind("/p", "2").status, 400);
  EXPECT_EQ(Propfind("/p", "one").status, 400);
}

TEST_F(PropfindTest, BadBodyIs400AndMissingIs404) {
  EXPECT_EQ(Propfind("/p", "0", "<D:propfind xmlns:D=\"DAV:\"><D:prop>").status, 400);
  EXPECT_EQ(Propfind("/nothing", "0").status, 404);
}

TEST_F(PropfindTest, InfinityCanBeDisabled) {
  DavSettings settings;
  settings.allow_propfind_infinity = false;
  DavHandler handler(Backends(), settings);
  Response r = Do(handler, "PROPFIND", "/p", {{"Depth", "infinity"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("propfind-finite-depth"), std::string::npos) << r.body;
  EXPECT_EQ(Do(handler, "PROPFIND", "/p", {{"Depth", "1"}}).status, 207);
}

// ---------------------------------------------------------------------------------------------
// PROPPATCH

TEST_F(DavHandlerTest, ProppatchSetAndRemove) {
  ASSERT_EQ(Put("/f", "x").status, 201);
  Response r =
      Proppatch("/f", ProppatchBody("<D:set><D:prop><Z:color>red</Z:color><Z:size>"
                                    "<Z:w>1</Z:w> and \xF0\x9F\x98\x80</Z:size></D:prop></D:set>"));
  ASSERT_EQ(r.status, 207);
  Multistatus ms(r.body);
  ASSERT_TRUE(ms.ok()) << r.body;
  EXPECT_EQ(ms.Find("/f", "urn:z", "color").status, 200);
  EXPECT_EQ(ms.Find("/f", "urn:z", "size").status, 200);
  EXPECT_EQ(ColorOf("/f", "/f"), "red");

  Multistatus got(Propfind("/f", "0", PropfindBody("<Z:size/>")).body);
  FoundProp size = got.Find("/f", "urn:z", "size");
  ASSERT_EQ(size.status, 200);
  EXPECT_TRUE(Is(size.element.first_child(), "urn:z", "w"));
  EXPECT_EQ(std::string(size.element.last_child().value()), " and \xF0\x9F\x98\x80");

  ASSERT_EQ(
      Proppatch("/f", ProppatchBody("<D:remove><D:prop><Z:color/></D:prop></D:remove>")).status,
      207);
  EXPECT_EQ(ColorOf("/f", "/f"), "");
}

TEST_F(DavHandlerTest, ProppatchProtectedPropertyFailsEverything) {
  ASSERT_EQ(Put("/f", "x").status, 201);
  ASSERT_EQ(Proppatch("/f", SetColor("old")).status, 207);
  Response r =
      Proppatch("/f", ProppatchBody("<D:set><D:prop><Z:color>new</Z:color><Z:extra>1</Z:extra>"
                                    "</D:prop></D:set><D:set><D:prop><D:getetag>\"x\"</D:getetag>"
                                    "</D:prop></D:set>"));
  ASSERT_EQ(r.status, 207);
  Multistatus ms(r.body);
  ASSERT_TRUE(ms.ok()) << r.body;
  EXPECT_EQ(ms.Find("/f", "DAV:", "getetag").status, 403);
  EXPECT_EQ(ms.Find("/f", "urn:z", "color").status, 424);
  EXPECT_EQ(ms.Find("/f", "urn:z", "extra").status, 424);
  EXPECT_NE(r.body.find("cannot-modify-protected-property"), std::string::npos);
  // Nothing was applied.
  EXPECT_EQ(ColorOf("/f", "/f"), "old");
  Multistatus extra(Propfind("/f", "0", PropfindBody("<Z:extra/>")).body);
  EXPECT_EQ(extra.Find("/f", "urn:z", "extra").status, 404);
}

TEST_F(DavHandlerTest, ProppatchErrors) {
  EXPECT_EQ(Proppatch("/missing", SetColor("x")).status, 404);
  ASSERT_EQ(Put("/f", "x").status, 201);
  EXPECT_EQ(Proppatch("/f", "<D:propertyupdate xmlns:D=\"DAV:\">").status, 400);
  EXPECT_EQ(Proppatch("/f", ProppatchBody("<D:set><D:prop><Q:x/></D:prop></D:set>")).status, 400);
}

TEST_F(DavHandlerTest, DestinationHostMatching) {
  ASSERT_EQ(Put("/src", "data").status, 201);
  // Host names compare case-insensitively.
  EXPECT_EQ(CopyOrMove("COPY", "/src", "http://LOCALHOST:8080/d1").status, 201);
  EXPECT_TRUE(OnDisk("d1"));
}

TEST_F(DavHandlerTest, CopyCollectionOverFile) {
  ASSERT_EQ(Do("MKCOL", "/d").status, 201);
  ASSERT_EQ(Put("/d/a", "a").status, 201);
  ASSERT_EQ(Put("/target", "file").status, 201);
  EXPECT_EQ(CopyOrMove("COPY", "/d", "/target").status, 204);
  EXPECT_TRUE(fsys::is_directory(root_ + "/target"));
  EXPECT_EQ(ReadDisk("target/a"), "a");
}

TEST_F(DavHandlerTest, DeleteConditional) {
  Response put = Put("/f", "x");
  ASSERT_EQ(put.status, 201);
  EXPECT_EQ(Do("DELETE", "/f", {{"If-Match", "\"nope\""}}).status, 412);
  EXPECT_TRUE(OnDisk("f"));
  EXPECT_EQ(Do("DELETE", "/f", {{"If-Match", put.Header("ETag")}}).status, 204);
  EXPECT_FALSE(OnDisk("f"));
}

TEST_F(DavHandlerTest, GetIfModifiedSinceIs304) {
  ASSERT_EQ(Put("/f", "data").status, 201);
  std::string last_modified = Get("/f").Header("Last-Modified");
  ASSERT_FALSE(last_modified.empty());
  EXPECT_EQ(Get("/f", {{"If-Modified-Since", last_modified}}).status, 304);
  EXPECT_EQ(Get("/f", {{"If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status, 200);
}

TEST_F(PropfindTest, Depth1OnFileIsOneResponse) {
  Multistatus ms(Propfind("/p/a.txt", "1").body);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms.Hrefs(), std::vector<std::string>{"/p/a.txt"});
}

TEST_F(PropfindTest, NonAsciiHrefsArePercentEncoded) {
  ASSERT_EQ(Put("/p/%C3%BC%23", "u").status, 201);
  EXPECT_TRUE(OnDisk("p/\xC3\xBC#"));
  Multistatus ms(Propfind("/p", "1").body);
  ASSERT_TRUE(ms.ok());
  auto hrefs = ms.Hrefs();
  EXPECT_NE(std::find(hrefs.begin(), hrefs.end(), "/p/%C3%BC%23"), hrefs.end());
}

// displayname is not protected: a client may set it; the dead value then replaces the live one.
TEST_F(DavHandlerTest, DisplaynameIsWritable) {
  ASSERT_EQ(Put("/f", "x").status, 201);
  Response r =
      Proppatch("/f", ProppatchBody("<D:set><D:prop><D:displayname>My File</D:displayname></D:prop>"
                                    "</D:set>"));
  ASSERT_EQ(r.status, 207);
  Multistatus set(r.body);
  EXPECT_EQ(set.Find("/f", "DAV:", "displayname").status, 200) << r.body;
  Multistatus ms(Propfind("/f", "0", PropfindBody("<D:displayname/>")).body);
  FoundProp name = ms.Find("/f", "DAV:", "displayname");
  EXPECT_EQ(name.status, 200);
  EXPECT_STREQ(name.element.child_value(), "My File");
  Multistatus all(Propfind("/f", "0").body);
  int count = 0;
  for (auto resp : all.Responses()) {
    for (auto ps : Children(resp, "DAV:", "propstat")) {
      count += static_cast<int>(Children(Child(ps, "DAV:", "prop"), "DAV:", "displayname").size());
    }
  }
  EXPECT_EQ(count, 1) << "displayname listed twice in allprop";
}

// ---------------------------------------------------------------------------------------------
// Read-only mode

TEST_F(DavHandlerTest, ReadOnlyRejectsModifications) {
  ASSERT_EQ(Put("/f", "x").status, 201);
  DavSettings settings;
  settings.read_only = true;
  DavHandler ro(Backends(), settings);
  EXPECT_EQ(Do(ro, "PUT", "/f", {}, "changed").status, 403);
  EXPECT_EQ(Do(ro, "PUT", "/new", {}, "new").status, 403);
  EXPECT_EQ(Do(ro, "MKCOL", "/col").status, 403);
  EXPECT_EQ(Do(ro, "DELETE", "/f").status, 403);
  EXPECT_EQ(Do(ro, "COPY", "/f", {{"Destination", "/g"}}).status, 403);
  EXPECT_EQ(Do(ro, "PROPPATCH", "/f", {}, SetColor("x")).status, 403);
  EXPECT_EQ(ReadDisk("f"), "x");
  EXPECT_FALSE(OnDisk("new"));
  EXPECT_EQ(Do(ro, "GET", "/f").status, 200);
  EXPECT_EQ(Do(ro, "PROPFIND", "/f", {{"Depth", "0"}}).status, 207);
  EXPECT_EQ(Do(ro, "OPTIONS", "/").status, 200);
}

}  // namespace
}  // namespace keepdav::webdav
