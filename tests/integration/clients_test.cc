// Regression tests named after the clients they protect, replaying the request patterns of
// clients that cannot run on this machine (Windows Explorer and Office through
// Microsoft-WebDAV-MiniRedir, macOS Finder through WebDAVFS). The clients that do run here
// (davfs2, rclone, cadaver, GVfs, the webdav npm package, curl) have their own interop tests in
// tests/interop/.
//
// The sequences follow what those clients are documented and widely logged to send: headers,
// bodies and the order of requests (LOCK before PUT, a zero-length PUT before the content,
// PROPPATCH of the Win32 times after it, chunked uploads with X-Expected-Entity-Length, AppleDouble
// companions, NFD names).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/test_server.h"

namespace keepdav::testing {
namespace {

constexpr const char kMiniRedir[] = "Microsoft-WebDAV-MiniRedir/10.0.19045";
constexpr const char kWebDavFs[] = "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (x86_64)";

// Windows' exclusive write lock request (Office and Explorer send the same shape).
constexpr const char kWindowsLock[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:lockinfo xmlns:D=\"DAV:\">"
    "<D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype>"
    "<D:owner><D:href>DESKTOP-1234\\ann</D:href></D:owner></D:lockinfo>";

// What Explorer sends after every upload, and on folders it creates (values as Windows writes
// them: RFC 1123 dates, attributes as 8 hex digits).
std::string Win32Proppatch(const std::string& mtime, const std::string& attributes = "00000020") {
  return "<?xml version=\"1.0\" encoding=\"utf-8\" ?>"
         "<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:schemas-microsoft-com:\">"
         "<D:set><D:prop>"
         "<Z:Win32CreationTime>Tue, 03 Feb 2015 04:05:06 GMT</Z:Win32CreationTime>"
         "<Z:Win32LastAccessTime>Wed, 04 Feb 2015 04:05:06 GMT</Z:Win32LastAccessTime>"
         "<Z:Win32LastModifiedTime>" +
         mtime +
         "</Z:Win32LastModifiedTime>"
         "<Z:Win32FileAttributes>" +
         attributes +
         "</Z:Win32FileAttributes>"
         "</D:prop></D:set></D:propertyupdate>";
}

std::string TokenOf(const HttpResult& r) {
  auto it = r.headers.find("lock-token");
  if (it == r.headers.end() || it->second.size() < 2) return "";
  return it->second.substr(1, it->second.size() - 2);
}

int64_t MtimeSeconds(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return st.st_mtime;
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

class ClientTest : public ::testing::Test {
 protected:
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  HttpResult Send(const std::string& method, const std::string& target,
                  const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    headers.emplace("User-Agent", agent_);
    return server_.Request(method, target, body, headers);
  }
  std::string Lock(const std::string& target, const char* body = kWindowsLock) {
    HttpResult r = Send("LOCK", target, body, {{"Timeout", "Second-3600"}, {"Depth", "0"}});
    EXPECT_TRUE(r.status == 200 || r.status == 201) << target << " " << r.status << r.body;
    return TokenOf(r);
  }

  TestServer server_;
  std::string agent_;
};

// ---- Windows Explorer and Office (Microsoft-WebDAV-MiniRedir) -------------------------------

class MicrosoftMiniRedirTest : public ClientTest {
 protected:
  MicrosoftMiniRedirTest() { agent_ = kMiniRedir; }
};

// `net use` and "Map network drive" start with OPTIONS on the root, then a PROPFIND without a
// body (RFC 4918 §9.1: same as allprop), Depth 0 and then 1, with Translate: f throughout.
TEST_F(MicrosoftMiniRedirTest, OptionsAndBodylessPropfindOnTheRoot) {
  WriteFile(server_.Disk("a.txt"), "a");
  HttpResult r = Send("OPTIONS", "/", "", {{"Translate", "f"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["dav"], "1, 2, sabredav-partialupdate");
  EXPECT_EQ(r.headers["ms-author-via"], "DAV");
  EXPECT_NE(r.headers["allow"].find("PROPPATCH"), std::string::npos);
  EXPECT_NE(r.headers["allow"].find("LOCK"), std::string::npos);

  for (const char* depth : {"0", "1"}) {
    r = Send("PROPFIND", "/", "", {{"Depth", depth}, {"Translate", "f"}, {"Content-Length", "0"}});
    ASSERT_EQ(r.status, 207) << depth << " " << r.body;
    EXPECT_NE(r.body.find("<D:href>/</D:href>"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("<D:collection/>"), std::string::npos);
    EXPECT_NE(r.body.find("<D:getlastmodified>"), std::string::npos);
    EXPECT_NE(r.body.find("<D:creationdate>"), std::string::npos);
    EXPECT_EQ(r.body.find("a.txt") != std::string::npos, std::string(depth) == "1") << r.body;
  }
  // Explorer probes for desktop.ini and friends: a plain 404.
  EXPECT_EQ(Send("PROPFIND", "/desktop.ini", "", {{"Depth", "0"}}).status, 404);
}

// Explorer will not show a folder whose PROPFIND answer is over 1,000,000 bytes (the WebClient
// service's FileAttributesLimitInBytes default). Its bodyless (allprop) Depth 1 listing gets the
// compact set (propfind.cc): at most 400 bytes per entry for files with 30-character names and
// no dead properties, so that a folder of 2,500 files fits; Apache spends about 853.
TEST_F(MicrosoftMiniRedirTest, AllpropListingOfABigFolderFitsExplorersLimit) {
  constexpr int kFiles = 2500;
  ASSERT_EQ(::mkdir(server_.Disk("big").c_str(), 0755), 0);
  for (int i = 0; i < kFiles; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "quarterly-report-2026-%04d.doc", i);  // 30 characters
    ASSERT_EQ(std::strlen(name), 30u);
    WriteFile(server_.Disk(std::string("big/") + name), std::string(1000 + i, 'x'));
  }
  HttpResult r = Send("PROPFIND", "/big/", "", {{"Depth", "1"}, {"Translate", "f"}});
  ASSERT_EQ(r.status, 207);
  ASSERT_EQ(Count(r.body, "<D:response>"), size_t{kFiles + 1});
  const double per_entry = static_cast<double>(r.body.size()) / (kFiles + 1);
  std::printf("Explorer's allprop Depth 1 of %d files: %zu bytes, %.0f per entry\n", kFiles,
              r.body.size(), per_entry);
  EXPECT_LE(per_entry, 400.0);
  EXPECT_LT(r.body.size(), 1000000u);
  // Still everything Explorer reads: size, dates, ETag, the type.
  EXPECT_EQ(Count(r.body, "<D:getcontentlength>"), size_t{kFiles});
  EXPECT_EQ(Count(r.body, "<D:getlastmodified>"), size_t{kFiles + 1});
  EXPECT_EQ(Count(r.body, "<D:creationdate>"), size_t{kFiles + 1});
  EXPECT_EQ(Count(r.body, "<D:getetag>"), size_t{kFiles + 1});
  EXPECT_EQ(Count(r.body, "<D:resourcetype/>"), size_t{kFiles});
  EXPECT_EQ(r.body.find("<D:supportedlock>"), std::string::npos);
  EXPECT_EQ(r.body.find("<D:getcontenttype>"), std::string::npos);

  // Another client's allprop gets the full set RFC 4918 §14.2 describes.
  HttpResult full = server_.Request("PROPFIND", "/big/", "",
                                    {{"Depth", "1"}, {"User-Agent", "litmus/0.13 neon/0.32.5"}});
  ASSERT_EQ(full.status, 207);
  EXPECT_EQ(Count(full.body, "<D:supportedlock>"), size_t{kFiles + 1});
  EXPECT_EQ(Count(full.body, "<D:displayname>"), size_t{kFiles + 1});
  EXPECT_GT(full.body.size(), 1500000u);
}

// The compact set is allprop's only: what Explorer names is answered, and so is what DAV:include
// adds back; a locked resource's lockdiscovery is listed.
TEST_F(MicrosoftMiniRedirTest, NamedPropertiesAndLocksAreNeverLeftOut) {
  WriteFile(server_.Disk("a.docx"), "a");
  HttpResult r = Send("PROPFIND", "/a.docx",
                      "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:propfind xmlns:D=\"DAV:\">"
                      "<D:prop><D:displayname/><D:getcontenttype/><D:supportedlock/>"
                      "<D:lockdiscovery/></D:prop></D:propfind>",
                      {{"Depth", "0"}});
  ASSERT_EQ(r.status, 207);
  EXPECT_NE(r.body.find("<D:displayname>a.docx</D:displayname>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:getcontenttype>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:supportedlock><D:lockentry>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:lockdiscovery/>"), std::string::npos) << r.body;

  r = Send("PROPFIND", "/a.docx",
           "<?xml version=\"1.0\" encoding=\"utf-8\" ?><D:propfind xmlns:D=\"DAV:\"><D:allprop/>"
           "<D:include><D:supportedlock/></D:include></D:propfind>",
           {{"Depth", "0"}});
  ASSERT_EQ(r.status, 207);
  EXPECT_NE(r.body.find("<D:supportedlock><D:lockentry>"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("<D:displayname>"), std::string::npos) << r.body;

  const std::string token = Lock("/a.docx");
  ASSERT_FALSE(token.empty());
  r = Send("PROPFIND", "/a.docx", "", {{"Depth", "0"}});
  ASSERT_EQ(r.status, 207);
  EXPECT_NE(r.body.find("<D:activelock>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(token), std::string::npos) << r.body;
}

// Translate: f asks for the file's source rather than a rendering: keepdav never renders, so a
// script or page comes back byte for byte.
TEST_F(MicrosoftMiniRedirTest, TranslateFGetsTheRawFile) {
  const std::string page = "<% Response.Write(\"hi\") %>\n<html><body>x</body></html>\n";
  WriteFile(server_.Disk("page.asp"), page);
  HttpResult r = Send("GET", "/page.asp", "", {{"Translate", "f"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, page);
}

// Explorer's copy of a file onto the drive: PUT with no body, LOCK, PUT of the content with the
// token, PROPPATCH of the Win32 properties with the token, UNLOCK.
TEST_F(MicrosoftMiniRedirTest, ZeroLengthPutThenLockedFullPutThenWin32Proppatch) {
  HttpResult r = Send("PUT", "/report.docx", "", {{"Translate", "f"}});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("report.docx")), "");

  std::string token = Lock("/report.docx");
  ASSERT_FALSE(token.empty());
  const std::string content(200000, 'w');
  // Without the token: refused. (A short body: keepdav answers 423 without reading a large one and
  // closes the connection, which Poco's client, still sending, reports as an I/O error.)
  EXPECT_EQ(Send("PUT", "/report.docx", "x").status, 423);
  r = Send("PUT", "/report.docx", content, {{"If", "(<" + token + ">)"}, {"Translate", "f"}});
  ASSERT_EQ(r.status, 204);
  EXPECT_EQ(ReadFile(server_.Disk("report.docx")), content);

  r = Send("PROPPATCH", "/report.docx", Win32Proppatch("Fri, 06 Mar 2015 07:08:09 GMT"),
           {{"If", "(<" + token + ">)"}, {"Content-Type", "text/xml; charset=\"utf-8\""}});
  ASSERT_EQ(r.status, 207) << r.body;
  EXPECT_EQ(Count(r.body, "HTTP/1.1 200 OK"), 1u) << r.body;  // one propstat holds all four
  EXPECT_EQ(r.body.find("HTTP/1.1 4"), std::string::npos) << r.body;
  for (const char* name : {"Win32CreationTime", "Win32LastAccessTime", "Win32LastModifiedTime",
                           "Win32FileAttributes"}) {
    EXPECT_NE(r.body.find(name), std::string::npos) << name << " missing in " << r.body;
  }
  // Win32LastModifiedTime is the file's real modification time: 2015-03-06T07:08:09Z.
  EXPECT_EQ(MtimeSeconds(server_.Disk("report.docx")), 1425625689);
  r = Send("PROPFIND", "/report.docx", "", {{"Depth", "0"}});
  EXPECT_NE(r.body.find("<D:getlastmodified>Fri, 06 Mar 2015 07:08:09 GMT</D:getlastmodified>"),
            std::string::npos)
      << r.body;

  EXPECT_EQ(Send("UNLOCK", "/report.docx", "", {{"Lock-Token", "<" + token + ">"}}).status, 204);
}

// Office opens a new document by LOCKing its unmapped URL (an empty file appears, RFC 4918 §7.3),
// then PUTs the content with the token.
TEST_F(MicrosoftMiniRedirTest, LockBeforePutOfANewFile) {
  HttpResult r = Send("LOCK", "/new.xlsx", kWindowsLock, {{"Timeout", "Second-3600"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string token = TokenOf(r);
  EXPECT_TRUE(Exists(server_.Disk("new.xlsx")));
  r = Send("PUT", "/new.xlsx", "sheet", {{"If", "<" + Url("/new.xlsx") + "> (<" + token + ">)"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(ReadFile(server_.Disk("new.xlsx")), "sheet");
  // Office refreshes its lock while the document is open: LOCK with the token and no body.
  r = Send("LOCK", "/new.xlsx", "", {{"If", "(<" + token + ">)"}, {"Timeout", "Second-3600"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Send("UNLOCK", "/new.xlsx", "", {{"Lock-Token", "<" + token + ">"}}).status, 204);
}

// A folder made in Explorer gets the same PROPPATCH; its mtime follows Win32LastModifiedTime too.
TEST_F(MicrosoftMiniRedirTest, Win32ProppatchOnAFolder) {
  ASSERT_EQ(Send("MKCOL", "/New%20folder").status, 201);
  HttpResult r = Send("PROPPATCH", "/New%20folder",
                      Win32Proppatch("Sat, 07 Mar 2015 08:09:10 GMT", "00000010"));
  ASSERT_EQ(r.status, 207) << r.body;
  EXPECT_NE(r.body.find("<D:href>/New%20folder/</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(Count(r.body, "HTTP/1.1 200 OK"), 1u) << r.body;
  EXPECT_EQ(r.body.find("HTTP/1.1 4"), std::string::npos) << r.body;
  EXPECT_EQ(MtimeSeconds(server_.Disk("New folder")), 1425715750);
  // The attributes and the times a POSIX file system cannot hold stay as dead properties, so
  // Explorer reads back what it set.
  r = Send("PROPFIND", "/New%20folder/",
           "<D:propfind xmlns:D=\"DAV:\"><D:prop xmlns:Z=\"urn:schemas-microsoft-com:\">"
           "<Z:Win32FileAttributes/><Z:Win32CreationTime/></D:prop></D:propfind>",
           {{"Depth", "0"}});
  EXPECT_NE(r.body.find(">00000010<"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(">Tue, 03 Feb 2015 04:05:06 GMT<"), std::string::npos) << r.body;
}

// A Win32LastModifiedTime that is not a date fails the whole PROPPATCH (RFC 4918 §9.2: 409 for
// the bad value, 424 for the rest), and changes nothing.
TEST_F(MicrosoftMiniRedirTest, UnparseableWin32TimeFailsThePropertyUpdate) {
  WriteFile(server_.Disk("f.txt"), "x");
  int64_t before = MtimeSeconds(server_.Disk("f.txt"));
  HttpResult r = Send("PROPPATCH", "/f.txt", Win32Proppatch("yesterday"));
  ASSERT_EQ(r.status, 207) << r.body;
  EXPECT_NE(r.body.find("HTTP/1.1 409 Conflict"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("HTTP/1.1 424 Failed Dependency"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("HTTP/1.1 200"), std::string::npos) << r.body;
  EXPECT_EQ(MtimeSeconds(server_.Disk("f.txt")), before);
  r = Send("PROPFIND", "/f.txt",
           "<D:propfind xmlns:D=\"DAV:\"><D:prop xmlns:Z=\"urn:schemas-microsoft-com:\">"
           "<Z:Win32FileAttributes/></D:prop></D:propfind>",
           {{"Depth", "0"}});
  EXPECT_NE(r.body.find("404 Not Found"), std::string::npos) << r.body;
}

// Explorer downloads big files in one GET (its WebClient refuses more than FileSizeLimitInBytes,
// 50 MB by default, on its own side; README says how to raise it). 100 MB come back whole.
TEST_F(MicrosoftMiniRedirTest, GetOfA100MegabyteFile) {
  constexpr size_t kSize = 100u * 1000 * 1000;
  {
    std::ofstream out(server_.Disk("big.iso"), std::ios::binary);
    std::vector<char> block(1 << 20);
    for (size_t off = 0; off < kSize; off += block.size()) {
      size_t n = std::min(block.size(), kSize - off);
      for (size_t i = 0; i < n; ++i) block[i] = static_cast<char>((off + i) * 2654435761u >> 13);
      out.write(block.data(), static_cast<std::streamsize>(n));
    }
  }
  Poco::Net::HTTPClientSession session("127.0.0.1", server_.port());
  session.setTimeout(Poco::Timespan(60, 0));
  Poco::Net::HTTPRequest request("GET", "/big.iso", Poco::Net::HTTPMessage::HTTP_1_1);
  request.set("User-Agent", kMiniRedir);
  request.set("Translate", "f");
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  ASSERT_EQ(response.getStatus(), 200);
  EXPECT_EQ(response.getContentLength64(), static_cast<int64_t>(kSize));
  std::vector<char> buf(1 << 20);
  size_t total = 0, mismatches = 0;
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
    size_t n = static_cast<size_t>(in.gcount());
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != static_cast<char>((total + i) * 2654435761u >> 13)) ++mismatches;
    }
    total += n;
  }
  EXPECT_EQ(total, kSize);
  EXPECT_EQ(mismatches, 0u);
}

// Names with a space, '#', '%' and non-ASCII, percent-encoded in the request-target and in the
// Destination as Windows sends them (UTF-8, upper-case hex), through every method.
TEST_F(MicrosoftMiniRedirTest, UnusualNamesInEveryMethod) {
  const std::string dir = "Déjà vu #1 100%";
  const std::string dir_url = "/D%C3%A9j%C3%A0%20vu%20%231%20100%25";
  const std::string file = "Ünïcödé €5 #2 50%.txt";
  const std::string file_url = "/%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20%E2%82%AC5%20%232%2050%25.txt";

  EXPECT_EQ(Send("OPTIONS", dir_url).status, 200);
  ASSERT_EQ(Send("MKCOL", dir_url).status, 201);
  EXPECT_TRUE(Exists(server_.Disk(dir)));
  const std::string in_dir = dir_url + file_url;
  ASSERT_EQ(Send("PUT", in_dir, "one").status, 201);
  EXPECT_EQ(ReadFile(server_.Disk(dir + "/" + file)), "one");
  EXPECT_EQ(Send("GET", in_dir).body, "one");
  EXPECT_EQ(Send("HEAD", in_dir).status, 200);

  HttpResult r = Send("PROPFIND", dir_url + "/", "", {{"Depth", "1"}});
  ASSERT_EQ(r.status, 207);
  // hrefs percent-encode '#', '%', the space and every non-ASCII byte.
  EXPECT_NE(r.body.find("<D:href>" + dir_url + "/</D:href>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("%232%2050%25.txt</D:href>"), std::string::npos) << r.body;
  for (size_t pos = r.body.find("<D:href>"); pos != std::string::npos;
       pos = r.body.find("<D:href>", pos + 1)) {
    std::string href = r.body.substr(pos, r.body.find("</D:href>", pos) - pos);
    EXPECT_EQ(href.find_first_of("# "), std::string::npos) << href;
  }

  r = Send("PROPPATCH", in_dir, Win32Proppatch("Fri, 06 Mar 2015 07:08:09 GMT"));
  EXPECT_EQ(r.status, 207);
  EXPECT_EQ(r.body.find("HTTP/1.1 4"), std::string::npos) << r.body;

  std::string token = Lock(in_dir);
  EXPECT_EQ(Send("PUT", in_dir, "two", {{"If", "(<" + token + ">)"}}).status, 204);
  EXPECT_EQ(Send("UNLOCK", in_dir, "", {{"Lock-Token", "<" + token + ">"}}).status, 204);

  const std::string copy_url = dir_url + "/Copie%20%233%20%C3%A0%2010%25.txt";
  r = Send("COPY", in_dir, "", {{"Destination", Url(copy_url)}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(ReadFile(server_.Disk(dir + "/Copie #3 à 10%.txt")), "two");
  // Windows before 10 sent lower-case hex; the same name either way.
  r = Send("MOVE", in_dir, "", {{"Destination", Url("/%c3%bcber%20%234%20%25.txt")}});
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("über #4 %.txt")), "two");
  EXPECT_FALSE(Exists(server_.Disk(dir + "/" + file)));
  r = Send("MOVE", dir_url, "", {{"Destination", Url("/Renommé%20%235%20%25/")}});
  EXPECT_EQ(r.status, 201);
  EXPECT_TRUE(Exists(server_.Disk("Renommé #5 %/Copie #3 à 10%.txt")));
  EXPECT_EQ(Send("DELETE", "/Renomm%C3%A9%20%235%20%25/").status, 204);
  EXPECT_EQ(Send("DELETE", "/%C3%BCber%20%234%20%25.txt").status, 204);
  EXPECT_FALSE(Exists(server_.Disk("Renommé #5 %")));
  EXPECT_FALSE(Exists(server_.Disk("über #4 %.txt")));
}

// A client that forgets to percent-encode a space puts it raw in the request line. That line is
// malformed (RFC 9112 §3): 400, and nothing is created at the part before the space.
TEST(RequestLineTest, UnencodedSpaceInTheTargetIs400) {
  TestServer server;
  HttpResult r;
  ParseResponse(server.Raw("MKCOL /New folder HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "Content-Length: 0\r\nConnection: close\r\n\r\n"),
                &r);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_FALSE(Exists(server.Disk("New")));
  EXPECT_FALSE(Exists(server.Disk("New folder")));
  // The encoded form works.
  EXPECT_EQ(server.Request("MKCOL", "/New%20folder").status, 201);
}

// ---- macOS Finder (WebDAVFS) ------------------------------------------------------------------

class FinderTest : public ClientTest {
 protected:
  FinderTest() { agent_ = kWebDavFs; }

  // A PUT the way WebDAVFS sends it: chunked, with the length it intends in
  // X-Expected-Entity-Length, in chunks of uneven size. Returns the parsed response.
  HttpResult ChunkedPut(const std::string& target, const std::string& body,
                        const std::string& extra_headers = "", bool terminate = true,
                        const std::string& expected = "") {
    std::string raw = "PUT " + target +
                      " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server_.port()) +
                      "\r\nUser-Agent: " + kWebDavFs +
                      "\r\nContent-Type: application/octet-stream\r\n"
                      "Transfer-Encoding: chunked\r\nX-Expected-Entity-Length: " +
                      (expected.empty() ? std::to_string(body.size()) : expected) + "\r\n" +
                      extra_headers + "Connection: close\r\n\r\n";
    size_t pos = 0, step = 1000;
    while (pos < body.size()) {
      size_t n = std::min(step, body.size() - pos);
      char size_line[32];
      std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
      raw += size_line;
      raw.append(body, pos, n);
      raw += "\r\n";
      pos += n;
      step = step * 3 + 17;  // 1000, 3017, 9068, ...: chunks of many sizes
    }
    if (terminate) raw += "0\r\n\r\n";
    HttpResult r;
    std::string answer = server_.Raw(raw, 10000, /*half_close=*/!terminate);
    ParseResponse(answer, &r);
    return r;
  }
};

// Other servers stored 0 bytes for these uploads (they looked only at Content-Length).
TEST_F(FinderTest, ChunkedPutWithExpectedEntityLengthStoresTheWholeFile) {
  std::string body(1500000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7919 >> 3);
  HttpResult r = ChunkedPut("/Photo.jpg", body);
  EXPECT_EQ(r.status, 201) << r.raw;
  EXPECT_EQ(ReadFile(server_.Disk("Photo.jpg")), body);
  // Replacing it the same way.
  body.resize(700001, 'z');
  r = ChunkedPut("/Photo.jpg", body);
  EXPECT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(ReadFile(server_.Disk("Photo.jpg")), body);
  // An empty file (Finder creates one before copying into it).
  r = ChunkedPut("/Untitled.txt", "");
  EXPECT_EQ(r.status, 201) << r.raw;
  EXPECT_TRUE(Exists(server_.Disk("Untitled.txt")));
  EXPECT_EQ(ReadFile(server_.Disk("Untitled.txt")), "");
}

// A connection that breaks before the last chunk is not an upload: the old file stays. The
// body here even has the announced X-Expected-Entity-Length and ends on a chunk boundary (Poco's
// own chunked stream took that for a complete body).
TEST_F(FinderTest, TruncatedChunkedPutKeepsTheOldFile) {
  WriteFile(server_.Disk("doc.pages"), "old");
  HttpResult r = ChunkedPut("/doc.pages", std::string(50000, 'n'), "", /*terminate=*/false);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_TRUE(ReadFile(server_.Disk("doc.pages")) == "old");
  // And a new file is not created from a cut-off body either.
  r = ChunkedPut("/new.pages", std::string(5000, 'n'), "", /*terminate=*/false);
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_FALSE(Exists(server_.Disk("new.pages")));
}

// A body shorter than the X-Expected-Entity-Length WebDAVFS announced means the upload went
// wrong on its side: refused, the old file stays.
TEST_F(FinderTest, ChunkedPutShorterThanExpectedEntityLengthIsRefused) {
  WriteFile(server_.Disk("doc.key"), "old");
  HttpResult r = ChunkedPut("/doc.key", std::string(5000, 'n'), "", true, "9000");
  EXPECT_EQ(r.status, 400) << r.raw;
  EXPECT_TRUE(ReadFile(server_.Disk("doc.key")) == "old");
}

// Over --max-upload, the announced length is refused before a byte of the body is read.
TEST(FinderUploadLimitTest, ExpectedEntityLengthOverTheLimitIs413BeforeTheBody) {
  webdav::DavSettings settings;
  settings.max_upload_bytes = 1000;
  TestServer server(settings);
  HttpResult r;
  ParseResponse(server.Raw("PUT /big.mov HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: " +
                           std::string(kWebDavFs) +
                           "\r\nTransfer-Encoding: chunked\r\n"
                           "X-Expected-Entity-Length: 5000\r\nConnection: close\r\n\r\n"),
                &r);
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_FALSE(Exists(server.Disk("big.mov")));
}

// Finder writes each file under a lock: LOCK (exclusive, Depth 0), chunked PUT with the token,
// a refresh while it writes, UNLOCK.
TEST_F(FinderTest, LockUnlockAroundAChunkedWrite) {
  const char* finder_lock =
      "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<D:lockinfo xmlns:D=\"DAV:\">\n"
      "<D:lockscope><D:exclusive/></D:lockscope>\n<D:locktype><D:write/></D:locktype>\n"
      "<D:owner><D:href>http://www.apple.com/webdav_fs/</D:href></D:owner>\n</D:lockinfo>\n";
  HttpResult r =
      Send("LOCK", "/Notes.rtf", finder_lock, {{"Timeout", "Second-600"}, {"Depth", "0"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string token = TokenOf(r);
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(ChunkedPut("/Notes.rtf", "no token").status, 423);
  r = ChunkedPut("/Notes.rtf", std::string(30000, 'r'), "If: (<" + token + ">)\r\n");
  EXPECT_EQ(r.status, 204) << r.raw;
  EXPECT_EQ(ReadFile(server_.Disk("Notes.rtf")), std::string(30000, 'r'));
  r = Send("LOCK", "/Notes.rtf", "", {{"If", "(<" + token + ">)"}, {"Timeout", "Second-600"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Send("UNLOCK", "/Notes.rtf", "", {{"Lock-Token", "<" + token + ">"}}).status, 204);
  EXPECT_EQ(ChunkedPut("/Notes.rtf", "after unlock").status, 204);
}

// Finder keeps resource forks and Finder info in AppleDouble companions named "._name", and
// folder settings in .DS_Store. They are ordinary files to keepdav: stored, listed, moved and
// deleted like any other (only keepdav's own ".keepdav-*" names are hidden).
TEST_F(FinderTest, AppleDoubleCompanionsAreOrdinaryFiles) {
  std::string apple_double("\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ", 24);
  apple_double += std::string(4072, '\0');
  ASSERT_EQ(ChunkedPut("/Vacation.mov", "movie").status, 201);
  ASSERT_EQ(ChunkedPut("/._Vacation.mov", apple_double).status, 201);
  ASSERT_EQ(ChunkedPut("/.DS_Store", std::string(6148, '\0')).status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("._Vacation.mov")), apple_double);

  HttpResult r = Send("PROPFIND", "/", "", {{"Depth", "1"}});
  EXPECT_NE(r.body.find("<D:href>/._Vacation.mov</D:href>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:href>/.DS_Store</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(Send("GET", "/._Vacation.mov").body, apple_double);

  // Renaming in Finder moves the file, then its companion.
  EXPECT_EQ(Send("MOVE", "/Vacation.mov", "", {{"Destination", Url("/Trip.mov")}}).status, 201);
  EXPECT_EQ(Send("MOVE", "/._Vacation.mov", "", {{"Destination", Url("/._Trip.mov")}}).status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("._Trip.mov")), apple_double);
  EXPECT_EQ(Send("DELETE", "/._Trip.mov").status, 204);
  EXPECT_EQ(Send("DELETE", "/Trip.mov").status, 204);
  EXPECT_FALSE(Exists(server_.Disk("._Trip.mov")));
}

// The same name in Unicode NFC (é = U+00E9) and NFD (e + U+0301, what macOS file names use):
// keepdav, like the Linux file system below it, compares names byte for byte. They are two
// names: each is stored, listed, read and deleted on its own, and neither shadows the other.
TEST_F(FinderTest, NfcAndNfdNamesAreDistinct) {
  const std::string nfc_url = "/caf%C3%A9.txt", nfd_url = "/cafe%CC%81.txt";
  ASSERT_EQ(ChunkedPut(nfc_url, "composed").status, 201);
  ASSERT_EQ(ChunkedPut(nfd_url, "decomposed").status, 201);
  EXPECT_EQ(ReadFile(server_.Disk("caf\xC3\xA9.txt")), "composed");
  EXPECT_EQ(ReadFile(server_.Disk("cafe\xCC\x81.txt")), "decomposed");

  HttpResult r = Send("PROPFIND", "/", "", {{"Depth", "1"}});
  EXPECT_NE(r.body.find("<D:href>" + nfc_url + "</D:href>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:href>" + nfd_url + "</D:href>"), std::string::npos) << r.body;
  EXPECT_EQ(Send("GET", nfc_url).body, "composed");
  EXPECT_EQ(Send("GET", nfd_url).body, "decomposed");

  std::string token = Lock(nfd_url);
  EXPECT_EQ(ChunkedPut(nfc_url, "not locked").status, 204);  // the NFC name is not locked
  EXPECT_EQ(Send("UNLOCK", nfd_url, "", {{"Lock-Token", "<" + token + ">"}}).status, 204);

  EXPECT_EQ(Send("MOVE", nfd_url, "", {{"Destination", Url("/d%C3%A9j%C3%A0.txt")}}).status, 201);
  EXPECT_EQ(Send("DELETE", nfc_url).status, 204);
  EXPECT_FALSE(Exists(server_.Disk("caf\xC3\xA9.txt")));
  EXPECT_EQ(ReadFile(server_.Disk("d\xC3\xA9j\xC3\xA0.txt")), "decomposed");
}

// Finder asks for the free space of the volume on the root (RFC 4331) and lists with a named
// property set rather than allprop.
TEST_F(FinderTest, QuotaAndNamedPropertiesOnTheRoot) {
  WriteFile(server_.Disk("x.txt"), "x");
  HttpResult r = Send("PROPFIND", "/",
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:propfind xmlns:D=\"DAV:\">\n"
                      "<D:prop>\n<D:getlastmodified/>\n<D:getcontentlength/>\n"
                      "<D:creationdate/>\n<D:resourcetype/>\n<D:quota-available-bytes/>\n"
                      "<D:quota-used-bytes/>\n</D:prop>\n</D:propfind>\n",
                      {{"Depth", "1"}, {"Content-Type", "text/xml"}});
  ASSERT_EQ(r.status, 207);
  EXPECT_NE(r.body.find("<D:quota-available-bytes>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:quota-used-bytes>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("<D:href>/x.txt</D:href>"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace keepdav::testing
