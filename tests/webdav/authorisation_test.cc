// Authorisation end to end through DavHandler over a real directory: requests carry the user the
// server would have authenticated (DavRequest::user), as server/ sets it. Per rule kind a
// read-only user's changes are 403 and change nothing on disk; a user's root confines every path
// (request-target, Destination, "..", encoded slashes, symlinks); lock tokens belong to their
// user; listings hide what the user may not read; --base-path prefixes every href.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "storage/clock.h"
#include "storage/database.h"
#include "storage/posix_file_system.h"
#include "storage/sqlite/sqlite_checksum_store.h"
#include "storage/sqlite/sqlite_lock_store.h"
#include "storage/sqlite/sqlite_operation_journal.h"
#include "storage/sqlite/sqlite_property_store.h"
#include "webdav/access_policy.h"
#include "webdav/browser_assets.h"
#include "webdav/dav_handler.h"

namespace keepdav::webdav {
namespace {

namespace fsys = std::filesystem;

class Sink : public ResponseSink {
 public:
  void SetStatus(int code) override { status = code; }
  void SetHeader(const std::string& name, const std::string& value) override {
    headers[name] = value;
  }
  void SendEmpty() override { sent_ = true; }
  std::ostream& SendBody(int64_t) override {
    sent_ = true;
    return body;
  }
  bool SendFileRange(int fd, uint64_t offset, uint64_t length) override {
    std::string buf(length, '\0');
    ssize_t n = pread(fd, buf.data(), length, static_cast<off_t>(offset));
    if (n > 0) body.write(buf.data(), n);
    return n == static_cast<ssize_t>(length);
  }
  bool sent() const override { return sent_; }
  bool head_only() const override { return false; }
  int status = 0;
  HeaderMap headers;
  std::ostringstream body;

 private:
  bool sent_ = false;
};

struct Answer {
  int status = 0;
  HeaderMap headers;
  std::string body;
};

class AuthorisationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fsys::temp_directory_path() / "keepdav-authz-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    // Outside the served root, for the symlink escape.
    outside_ = root_ + "-outside";
    fsys::create_directories(outside_);
    Write(outside_ + "/secret", "outside secret");
    fsys::create_directories(root_ + "/home/alice/docs");
    fsys::create_directories(root_ + "/home/bob");
    fsys::create_directories(root_ + "/ro");
    fsys::create_directories(root_ + "/w");
    fsys::create_directories(root_ + "/hidden/deeper");
    fsys::create_directories(root_ + "/shown");
    Write(root_ + "/secret", "root secret");
    Write(root_ + "/ro/f", "read only");
    Write(root_ + "/w/f", "writable");
    Write(root_ + "/hidden/deeper/x", "hidden");
    Write(root_ + "/shown/y", "shown");
    Write(root_ + "/home/alice/docs/a.txt", "alice");
    fsys::create_symlink("../../../secret", root_ + "/home/alice/up");
    fsys::create_symlink(outside_ + "/secret", root_ + "/home/alice/out");
    auto fs = storage::PosixFileSystem::Open(root_, storage::PosixFileSystem::Options());
    ASSERT_TRUE(fs.ok()) << fs.status().ToString();
    fs_ = std::move(fs).value();
    auto db = storage::Database::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_ = std::move(db).value();
    props_ = std::make_unique<storage::SqlitePropertyStore>(*db_);
    journal_ = std::make_unique<storage::SqliteOperationJournal>(*props_);
    locks_ = std::make_unique<storage::SqliteLockStore>(*db_);
    checksums_ = std::make_unique<storage::SqliteChecksumStore>(*db_);
    Use("[authenticated]\n"
        "write /\n"
        "[anonymous]\n"
        "read /shown\n"
        "[user ro]\n"
        "read /\n"
        "[user mixed]\n"
        "read /\n"
        "write /w\n"
        "none /hidden\n"
        "[user alice]\n"
        "root /home/alice\n",
        "");
  }
  void TearDown() override {
    handler_.reset();
    std::error_code ec;
    fsys::remove_all(root_, ec);
    fsys::remove_all(outside_, ec);
  }
  void Use(const std::string& rules_text, const std::string& base_path) {
    AccessRules rules;
    storage::Status s = ParseAccessRules(rules_text, "test", &rules);
    ASSERT_TRUE(s.ok()) << s.ToString();
    policy_ = std::make_unique<AccessPolicy>(AccessPolicy::FromRules(rules));
    DavSettings settings;
    settings.base_path = base_path;
    handler_.reset();
    handler_ = std::make_unique<DavHandler>(
        DavBackends{*fs_, *props_, *locks_, *journal_, clock_, *checksums_, policy_.get()},
        settings);
  }
  static void Write(const std::string& file, const std::string& text) {
    std::ofstream(file, std::ios::binary) << text;
  }
  std::string Read(const std::string& rel) const {
    std::ifstream in(root_ + "/" + rel, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool Exists(const std::string& rel) const {
    return fsys::exists(fsys::symlink_status(root_ + "/" + rel));
  }
  Answer Do(const std::string& user, const std::string& method, const std::string& target,
            HeaderMap headers = {}, const std::string& body = "") {
    DavRequest req;
    req.method = method;
    req.target = target;
    req.host = "localhost:8080";
    req.user = user;
    req.headers = std::move(headers);
    std::istringstream in(body);
    req.body = &in;
    req.content_length = static_cast<int64_t>(body.size());
    Progress progress;
    req.progress = &progress;
    Sink sink;
    handler_->Handle(req, sink);
    EXPECT_TRUE(sink.sent());
    return {sink.status, sink.headers, sink.body.str()};
  }
  std::string LockBody() const {
    return "<?xml version=\"1.0\"?><D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:exclusive/>"
           "</D:lockscope><D:locktype><D:write/></D:locktype><D:owner>me</D:owner></D:lockinfo>";
  }

  std::string root_, outside_;
  std::unique_ptr<storage::FileSystem> fs_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<storage::SqlitePropertyStore> props_;
  std::unique_ptr<storage::SqliteOperationJournal> journal_;
  std::unique_ptr<storage::SqliteLockStore> locks_;
  std::unique_ptr<storage::SqliteChecksumStore> checksums_;
  storage::SystemClock clock_;
  std::unique_ptr<AccessPolicy> policy_;
  std::unique_ptr<DavHandler> handler_;
};

TEST_F(AuthorisationTest, ReadOnlyUserChangesNothing) {
  const std::string proppatch =
      "<?xml version=\"1.0\"?><D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:z\"><D:set>"
      "<D:prop><Z:c>x</Z:c></D:prop></D:set></D:propertyupdate>";
  EXPECT_EQ(Do("ro", "GET", "/ro/f").status, 200);
  Answer put = Do("ro", "PUT", "/ro/f", {}, "changed");
  EXPECT_EQ(put.status, 403);
  EXPECT_NE(put.body.find("user ro has no write access to /ro/f"), std::string::npos) << put.body;
  EXPECT_EQ(Do("ro", "PUT", "/ro/new", {}, "x").status, 403);
  EXPECT_EQ(Do("ro", "MKCOL", "/ro/col").status, 403);
  EXPECT_EQ(Do("ro", "DELETE", "/ro/f").status, 403);
  EXPECT_EQ(Do("ro", "PROPPATCH", "/ro/f", {}, proppatch).status, 403);
  EXPECT_EQ(Do("ro", "LOCK", "/ro/f", {}, LockBody()).status, 403);
  EXPECT_EQ(Do("ro", "MOVE", "/ro/f", {{"Destination", "/ro/g"}}).status, 403);
  EXPECT_EQ(Do("ro", "COPY", "/ro/f", {{"Destination", "/ro/g"}}).status, 403);
  // mixed may write /w but not /ro: the MOVE destination is what is refused.
  EXPECT_EQ(Do("mixed", "MOVE", "/w/f", {{"Destination", "/ro/g"}}).status, 403);
  EXPECT_EQ(Do("mixed", "COPY", "/ro/f", {{"Destination", "/w/copy"}}).status, 201);
  EXPECT_EQ(Read("ro/f"), "read only");
  EXPECT_EQ(Read("w/f"), "writable");
  EXPECT_FALSE(Exists("ro/new"));
  EXPECT_FALSE(Exists("ro/col"));
  EXPECT_FALSE(Exists("ro/g"));
  EXPECT_TRUE(locks_->All(clock_.Now()).value().empty());
  EXPECT_TRUE(props_->GetAll(storage::ResourcePath::Parse("/ro/f").value()).value().empty());
}

TEST_F(AuthorisationTest, AnonymousIsAskedToAuthenticateExceptForOptions) {
  EXPECT_EQ(Do("", "GET", "/shown/y").status, 200);
  EXPECT_EQ(Do("", "GET", "/secret").status, 401);
  EXPECT_EQ(Do("", "PUT", "/shown/z", {}, "x").status, 401);
  EXPECT_EQ(Do("", "OPTIONS", "/secret").status, 200);
  EXPECT_FALSE(Exists("shown/z"));
}

TEST_F(AuthorisationTest, AUserStaysInsideTheirRoot) {
  Answer own = Do("alice", "GET", "/docs/a.txt");
  EXPECT_EQ(own.status, 200);
  EXPECT_EQ(own.body, "alice");
  EXPECT_EQ(Do("alice", "GET", "/secret").status, 404);  // that is /home/alice/secret
  EXPECT_EQ(Do("alice", "GET", "/home/alice/docs/a.txt").status, 404);
  EXPECT_EQ(Do("alice", "GET", "/../../secret").status, 400);
  EXPECT_EQ(Do("alice", "GET", "/%2e%2e/%2e%2e/secret").status, 400);
  EXPECT_EQ(Do("alice", "GET", "/docs%2f..%2f..%2f..%2fsecret").status, 400);
  // Symlinks are never followed, inside or out of --root.
  Answer up = Do("alice", "GET", "/up");
  EXPECT_NE(up.status, 200);
  EXPECT_EQ(up.body.find("secret"), std::string::npos);
  EXPECT_NE(Do("alice", "GET", "/out").status, 200);
  // Destination maps into the same root: "/stolen" is /home/alice/stolen.
  EXPECT_EQ(Do("alice", "COPY", "/docs/a.txt", {{"Destination", "/../stolen"}}).status, 400);
  EXPECT_EQ(Do("alice", "COPY", "/docs/a.txt",
               {{"Destination", "http://localhost:8080/%2e%2e/%2e%2e/stolen"}})
                .status,
            400);
  EXPECT_EQ(Do("alice", "COPY", "/docs/a.txt", {{"Destination", "/stolen"}}).status, 201);
  EXPECT_EQ(Read("home/alice/stolen"), "alice");
  EXPECT_FALSE(Exists("stolen"));
  EXPECT_EQ(Do("alice", "MOVE", "/secret", {{"Destination", "/mine"}}).status, 404);
  EXPECT_EQ(Read("secret"), "root secret");
  // Their root is theirs to use, not to remove.
  EXPECT_EQ(Do("alice", "DELETE", "/").status, 403);
  EXPECT_TRUE(Exists("home/alice/docs/a.txt"));
}

TEST_F(AuthorisationTest, HrefsAreInTheUsersView) {
  Answer list = Do("alice", "PROPFIND", "/", {{"Depth", "1"}});
  EXPECT_EQ(list.status, 207);
  EXPECT_NE(list.body.find("<D:href>/</D:href>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("<D:href>/docs/</D:href>"), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("/home"), std::string::npos) << list.body;
  Answer lock = Do("alice", "LOCK", "/docs/a.txt", {}, LockBody());
  EXPECT_EQ(lock.status, 200);
  EXPECT_NE(lock.body.find("<D:lockroot><D:href>/docs/a.txt</D:href>"), std::string::npos)
      << lock.body;
  Answer html = Do("alice", "GET", "/docs/");
  EXPECT_EQ(html.status, 200);
  EXPECT_NE(html.body.find("href=\"/docs/a.txt\""), std::string::npos) << html.body;
  EXPECT_EQ(html.body.find("/home"), std::string::npos) << html.body;
  Answer loc = Do("alice", "PROPFIND", "/docs", {{"Depth", "0"}});
  EXPECT_EQ(loc.headers["Content-Location"], "/docs/");
}

TEST_F(AuthorisationTest, ALockBelongsToTheUserWhoTookIt) {
  Answer lock = Do("carol", "LOCK", "/w/f", {}, LockBody());
  ASSERT_EQ(lock.status, 200) << lock.body;
  std::string token = lock.headers["Lock-Token"];
  ASSERT_FALSE(token.empty());
  const std::string if_value = "(" + token + ")";
  Answer put = Do("dave", "PUT", "/w/f", {{"If", if_value}}, "dave's");
  EXPECT_EQ(put.status, 403) << put.body;
  EXPECT_NE(put.body.find("belongs to another user"), std::string::npos) << put.body;
  EXPECT_EQ(Do("dave", "UNLOCK", "/w/f", {{"Lock-Token", token}}).status, 403);
  EXPECT_EQ(Do("dave", "LOCK", "/w/f", {{"If", if_value}}).status, 403);  // a refresh
  EXPECT_EQ(Do("dave", "PUT", "/w/f", {}, "dave's").status, 423);
  EXPECT_EQ(Read("w/f"), "writable");
  EXPECT_EQ(Do("carol", "PUT", "/w/f", {{"If", if_value}}, "carol's").status, 204);
  EXPECT_EQ(Read("w/f"), "carol's");
  // lockdiscovery still shows the owner as given.
  Answer found = Do("dave", "PROPFIND", "/w/f", {{"Depth", "0"}},
                    "<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\"><D:prop>"
                    "<D:lockdiscovery/></D:prop></D:propfind>");
  EXPECT_NE(found.body.find(">me</D:owner>"), std::string::npos) << found.body;
  EXPECT_EQ(Do("carol", "UNLOCK", "/w/f", {{"Lock-Token", token}}).status, 204);
}

TEST_F(AuthorisationTest, ListingsHideWhatTheUserCannotRead) {
  for (const char* depth : {"1", "infinity"}) {
    Answer list = Do("mixed", "PROPFIND", "/", {{"Depth", depth}});
    EXPECT_EQ(list.status, 207);
    EXPECT_NE(list.body.find("/shown/"), std::string::npos) << depth;
    EXPECT_EQ(list.body.find("hidden"), std::string::npos) << depth << list.body;
    EXPECT_EQ(list.body.find("deeper"), std::string::npos) << depth;
  }
  EXPECT_NE(Do("mixed", "PROPFIND", "/", {{"Depth", "infinity"}}).body.find("/shown/y"),
            std::string::npos);
  Answer html = Do("mixed", "GET", "/");
  EXPECT_EQ(html.status, 200);
  EXPECT_EQ(html.body.find("data-name=\"hidden\""), std::string::npos) << html.body;
  EXPECT_EQ(html.body.find("/hidden/"), std::string::npos) << html.body;
  EXPECT_NE(html.body.find("shown"), std::string::npos);
  EXPECT_EQ(Do("mixed", "PROPFIND", "/hidden", {{"Depth", "0"}}).status, 403);
  EXPECT_EQ(Do("mixed", "GET", "/hidden/deeper/x").status, 403);
  // Nobody else is filtered.
  EXPECT_NE(Do("carol", "PROPFIND", "/", {{"Depth", "1"}}).body.find("/hidden/"),
            std::string::npos);
}

// The browser page offers its actions (upload, new folder, rename, move, delete) only where the
// user may write (webdav/assets/README.md: body data-writable); the server refuses them anyway.
TEST_F(AuthorisationTest, ThePageSaysWhereTheUserMayWrite) {
  auto writable = [this](const std::string& user, const std::string& target) {
    Answer page = Do(user, "GET", target);
    EXPECT_EQ(page.status, 200) << user << " " << target;
    if (page.body.find("data-writable=\"true\"") != std::string::npos) return "true";
    if (page.body.find("data-writable=\"false\"") != std::string::npos) return "false";
    return "absent";
  };
  EXPECT_STREQ(writable("carol", "/w/"), "true");
  EXPECT_STREQ(writable("ro", "/"), "false");
  EXPECT_STREQ(writable("ro", "/w/"), "false");
  EXPECT_STREQ(writable("mixed", "/"), "false");
  EXPECT_STREQ(writable("mixed", "/w/"), "true");
  EXPECT_STREQ(writable("", "/shown/"), "false");
  EXPECT_NE(Do("mixed", "GET", "/w/").body.find("data-user=\"mixed\""), std::string::npos);
  EXPECT_EQ(Do("", "GET", "/shown/").body.find("data-user="), std::string::npos);
}

// The page's script and styles are the same public bytes for everyone: an anonymous request
// gets them where it may read nothing, under --base-path too; the names stay reserved.
TEST_F(AuthorisationTest, AssetsNeedNoAccess) {
  Use("[authenticated]\nwrite /\n", "");
  EXPECT_EQ(Do("", "GET", "/w/f").status, 401);
  Answer js = Do("", "GET", "/.keepdav-assets/browser.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["Content-Type"], "text/javascript; charset=utf-8");
  EXPECT_EQ(js.body, BrowserAsset("browser.js"));
  EXPECT_EQ(Do("", "GET", "/.keepdav-assets/../w/f").status, 404);
  // Only GET and HEAD: anything else meets the reserved name, which is no resource.
  EXPECT_EQ(Do("carol", "PUT", "/.keepdav-assets/browser.js", {}, "x").status, 404);
  EXPECT_EQ(Do("carol", "MKCOL", "/.keepdav-assets/").status, 404);
  EXPECT_FALSE(Exists(".keepdav-assets"));
  Use("[authenticated]\nwrite /\n", "/dav");
  EXPECT_EQ(Do("", "GET", "/dav/.keepdav-assets/browser.css").status, 200);
  EXPECT_NE(Do("", "GET", "/.keepdav-assets/browser.css").status, 200);
  Answer page = Do("carol", "GET", "/dav/w/");
  EXPECT_NE(page.body.find("href=\"/dav/.keepdav-assets/browser.css\""), std::string::npos);
  EXPECT_NE(page.body.find("data-folder=\"/dav/w/\""), std::string::npos) << page.body;
}

TEST_F(AuthorisationTest, BasePathPrefixesEveryHref) {
  Use("[authenticated]\nwrite /\n[user alice]\nroot /home/alice\n", "/dav");
  EXPECT_EQ(Do("carol", "GET", "/w/f").status, 404);
  EXPECT_EQ(Do("carol", "GET", "/davw/f").status, 404);
  EXPECT_EQ(Do("carol", "GET", "/dav/w/f").body, "writable");
  Answer list = Do("alice", "PROPFIND", "/dav", {{"Depth", "1"}});
  EXPECT_EQ(list.status, 207);
  EXPECT_NE(list.body.find("<D:href>/dav/</D:href>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("<D:href>/dav/docs/</D:href>"), std::string::npos) << list.body;
  EXPECT_EQ(Do("carol", "COPY", "/dav/w/f", {{"Destination", "/w/g"}}).status, 403);
  EXPECT_EQ(
      Do("carol", "COPY", "/dav/w/f", {{"Destination", "http://localhost:8080/dav/w/g"}}).status,
      201);
  EXPECT_EQ(Read("w/g"), "writable");
  Answer redirect = Do("carol", "GET", "/dav/w");
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(redirect.headers["Location"], "/dav/w/");
}

}  // namespace
}  // namespace keepdav::webdav
