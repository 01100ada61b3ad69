// GET, HEAD and PUT (RFC 9110 §9.3.1, §9.3.2, §9.3.4; RFC 4918 §9.4, §9.7).
#include <Poco/Logger.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "webdav/authorisation.h"
#include "webdav/browser_page.h"
#include "webdav/byte_range.h"
#include "webdav/collection_url.h"
#include "webdav/conditional.h"
#include "webdav/dav_handler.h"
#include "webdav/favicon.h"
#include "webdav/mime_types.h"
#include "webdav/oc_mtime.h"
#include "webdav/partial_update.h"
#include "webdav/repr_digest.h"
#include "webdav/update_range.h"

namespace keepdav::webdav {

using storage::FileInfo;
using storage::ResourcePath;
using storage::Status;
using storage::StatusCode;

namespace {

// If-Range (RFC 9110 §13.1.5): the range applies only if the validator still matches.
bool IfRangeAllows(const DavRequest& req, const FileInfo& info) {
  const std::string* h = req.Header("If-Range");
  if (!h) return true;
  if (!h->empty() && (h->front() == '"')) return *h == ETagFor(info);
  auto date = ParseHttpDate(*h);
  return date && *date == info.mtime_ns / 1000000000;
}

void AddValidators(DavResponse* response, const FileInfo& info) {
  response->AddHeader("ETag", ETagFor(info));
  // Files written together share their second: the last one formatted on this thread is kept
  // (HttpDate is ~260 instructions a response).
  thread_local int64_t formatted_second = INT64_MIN;
  thread_local std::string formatted;
  const int64_t second = info.mtime_ns / 1000000000;
  if (second != formatted_second) {
    formatted = HttpDate(second);
    formatted_second = second;
  }
  response->AddHeader("Last-Modified", formatted);
}

}  // namespace

DavResponse DavHandler::HandleGet(const DavRequest& req) {
  const ResourcePath& path = req.path;
  // Open first: one path resolution and one stat for the common case of a file; a collection
  // or a special file answers kIsADirectory / kPermissionDenied and is looked at again below.
  auto file = fs_.OpenRead(path);
  storage::Result<FileInfo> info =
      file.ok() ? storage::Result<FileInfo>(file.value()->info()) : fs_.Stat(path);
  if (!info.ok()) {
    // Browsers ask every server for /favicon.ico: one compiled in, unless the root has its own.
    if (info.status().IsNotFound() && IsFaviconPath(req.space.ViewPath(path)))
      return FaviconResponse();
    return DavError::FromStorage(info.status());
  }
  if (info->IsDirectory() && NamedWithoutSlash(req)) return RedirectToCollection(req);

  switch (EvaluateConditionalHeaders(req, &info.value(), /*read_method=*/true)) {
    case Condition::kNotModified: {
      DavResponse r = DavResponse::Empty(304);
      AddValidators(&r, info.value());
      return r;
    }
    case Condition::kPreconditionFailed:
      return DavError::Make(412, "a conditional header did not match");
    case Condition::kProceed:
      break;
  }

  if (info->IsDirectory()) {
    HiddenMember hidden;
    if (ListingNeedsFilter(*req.access, req, path)) {
      hidden = [&req](const ResourcePath& p) { return !MayRead(*req.access, req, p); };
    }
    PageContext context;
    context.writable = !settings_.read_only && MayWrite(*req.access, req, path);
    context.partial = settings_.partial_updates;
    context.user = req.user;
    return CollectionListing(fs_, path, req.space, std::move(hidden), std::move(context));
  }
  if (!info->IsFile()) return DavError::Make(403, "not a regular file");
  if (!file.ok()) return DavError::FromStorage(file.status());
  const FileInfo fi = file.value()->info();  // the opened file's own figures
  uint64_t size = fi.size;
  ByteRange range{0, size};
  bool partial = false;
  if (const std::string* h = req.Header("Range"); h && IfRangeAllows(req, fi)) {
    switch (ParseByteRange(*h, size, &range)) {
      case RangeResult::kNone:
        range = {0, size};
        break;
      case RangeResult::kRange:
        partial = true;
        break;
      case RangeResult::kUnsatisfiable: {
        DavResponse r = DavResponse::Empty(416);
        r.AddHeader("Content-Range", "bytes */" + std::to_string(size));
        return r;
      }
    }
  }
  DavResponse r = DavResponse::FileRange(partial ? 206 : 200, std::move(file).value(), range.first,
                                         range.length);
  AddValidators(&r, fi);
  const std::string& type = ContentTypeFor(path.Name());  // the table's own string: no copy
  r.AddHeader("Content-Type", type);
  r.AddHeader("Accept-Ranges", "bytes");
  // A stored page or SVG opened in a browser runs in a sandbox (a unique origin, no scripts):
  // one user's upload cannot act with another user's credentials on the browser page.
  if (type.rfind("text/html", 0) == 0 || type.rfind("image/svg+xml", 0) == 0 ||
      type.rfind("application/xhtml+xml", 0) == 0) {
    r.AddHeader("Content-Security-Policy", "sandbox");
  }
  // RFC 9530 §4: digests only when asked (computing one reads the whole file, once: stored).
  // Of the whole representation, also for a range (§3). None if the file changed meanwhile.
  if (const std::string* want = req.Header("Want-Repr-Digest")) {
    auto sums = checksums_.Get(path, fi);
    if (sums.ok()) {
      std::string digest = ReprDigestFor(*want, sums.value());
      if (!digest.empty()) r.AddHeader("Repr-Digest", digest);
    } else {
      Poco::Logger::get("keepdav.dav")
          .warning("GET %s: no Repr-Digest: %s", path.str(), sums.status().message());
    }
  }
  if (partial) {
    r.AddHeader("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                     std::to_string(range.first + range.length - 1) + "/" +
                                     std::to_string(size));
  }
  return r;
}

DavResponse DavHandler::HandlePut(const DavRequest& req) {
  const ResourcePath& path = req.path;
  DavError err;
  // RFC 9110 §14.5: a server that does not apply a partial PUT must answer it 400. keepdav
  // applies it to an existing file (Apache mod_dav's partial PUT), as PATCH does.
  if (const std::string* h = req.Header("Content-Range")) {
    if (!settings_.partial_updates) {
      return DavError::Make(400, "partial PUT with Content-Range is not enabled");
    }
    std::optional<UpdateRange> range = ParseContentRange(*h);
    if (!range) return DavError::Make(400, "Content-Range must be bytes FIRST-LAST/(TOTAL|*)");
    DavResponse r = WritePartially(req, *range);
    // Nothing to write into: the partial PUT cannot be applied, which §14.5 answers 400.
    if (r.status() == 404) return DavError::Make(400, "a partial PUT needs an existing file");
    return r;
  }
  // macOS Finder (WebDAVFS) sends uploads chunked and announces their length in
  // X-Expected-Entity-Length (other servers stored 0 bytes of them). It is held to that length as
  // to a Content-Length: over --max-upload is 413 before reading, and a body of another length
  // is an upload gone wrong (400, the old file stays). A value that is not a number is ignored.
  int64_t expected_length = req.content_length;
  if (const std::string* h = req.Header("X-Expected-Entity-Length");
      h && expected_length < 0 && !h->empty() && h->size() <= 18 &&
      std::all_of(h->begin(), h->end(), ::isdigit)) {
    expected_length = std::strtoll(h->c_str(), nullptr, 10);
  }
  // ownCloud clients and rclone (vendor=owncloud) send the file's modification time (oc_mtime.h).
  std::optional<int64_t> oc_mtime_ns;
  if (const std::string* h = req.Header("X-OC-Mtime")) {
    oc_mtime_ns = ParseOcMtime(*h);
    if (!oc_mtime_ns) {
      return DavError::Make(400, "X-OC-Mtime must be seconds since the epoch: " + *h);
    }
  }
  if (settings_.max_upload_bytes > 0 && expected_length > 0 &&
      static_cast<uint64_t>(expected_length) > settings_.max_upload_bytes) {
    return DavError::Make(413, "upload larger than the configured maximum");
  }
  // Begin first: it looks at the target anyway (previous()), which saves a Stat of its own. A
  // request refused below drops the temporary file unseen.
  auto writer = fs_.BeginWrite(path);
  if (!writer.ok()) {
    StatusCode code = writer.status().code();
    // A missing parent, or a parent that is a file: 409 (RFC 4918 §9.7.1).
    if (code == StatusCode::kNotFound || code == StatusCode::kNotADirectory) {
      return DavError::Make(409, "the parent collection does not exist");
    }
    if (code == StatusCode::kIsADirectory) return DavError::Make(405, "PUT on a collection");
    return DavError::FromStorage(writer.status());
  }
  const std::optional<FileInfo>& previous = writer.value()->previous();
  const bool existed = previous.has_value();
  // A new file adds a member to its collection (RFC 4918 §7.4).
  err = CheckConditions(req, path, existed ? &previous.value() : nullptr,
                        {{path, /*with_members=*/false, /*adds_or_removes=*/!existed}});
  if (!err.ok()) return err;

  // One buffer per thread: a fresh 256 KiB one per PUT was an mmap and munmap every time.
  constexpr size_t kBuffer = 256 * 1024;
  thread_local std::unique_ptr<char[]> buf(new char[kBuffer]);
  uint64_t total = 0;
  std::istream& in = *req.body;
  while (in) {
    in.read(buf.get(), static_cast<std::streamsize>(kBuffer));
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    total += static_cast<uint64_t>(n);
    if (settings_.max_upload_bytes > 0 && total > settings_.max_upload_bytes) {
      return DavError::Make(413, "upload larger than the configured maximum");
    }
    Status s = writer.value()->Write(buf.get(), static_cast<size_t>(n));
    if (!s.ok()) return DavError::FromStorage(s);
  }
  if (in.bad() || (expected_length >= 0 && total != static_cast<uint64_t>(expected_length))) {
    // The client went away mid-body: the temporary file is dropped, the old file stays.
    return DavError::Make(400, "incomplete request body (" + std::to_string(total) + " bytes)");
  }
  if (!existed) {
    // Clear properties a crash may have left behind at this path, before the file appears.
    Status s = props_.DeleteTree(path);
    if (!s.ok()) return DavError::FromStorage(s);
  }
  Status s = writer.value()->Commit();
  if (!s.ok()) {
    return s.code() == StatusCode::kIsADirectory ? DavError::Make(405, "PUT on a collection")
                                                 : DavError::FromStorage(s);
  }
  FileInfo committed = writer.value()->committed_info();
  if (oc_mtime_ns) {
    // After the rename, not before: the file is in place (a crash in between leaves it with the
    // time of the upload, which the client's next sync corrects by uploading it again).
    s = fs_.SetModifiedTime(path, *oc_mtime_ns);
    if (!s.ok()) return DavError::FromStorage(s);
    auto now = fs_.Stat(path);  // the ETag covers the mtime
    if (!now.ok()) return DavError::FromStorage(now.status());
    committed = now.value();
  }
  DavResponse r = DavResponse::Empty(existed ? 204 : 201);
  r.AddHeader("ETag", ETagFor(committed));
  if (oc_mtime_ns) r.AddHeader("X-OC-MTime", "accepted");
  return r;
}

DavResponse DavHandler::HandlePatch(const DavRequest& req) {
  if (!settings_.partial_updates) return DavError::Make(405, "partial updates are not enabled");
  // https://sabre.io/dav/http-patch/: this content type, and X-Update-Range, or it is not ours.
  const std::string* type = req.Header("Content-Type");
  const std::string kType = "application/x-sabredav-partialupdate";
  if (!type || type->compare(0, kType.size(), kType) != 0) {
    return DavError::Make(415, "PATCH takes Content-Type: " + kType);
  }
  const std::string* h = req.Header("X-Update-Range");
  if (!h) return DavError::Make(400, "PATCH needs X-Update-Range");
  std::optional<UpdateRange> range = ParseXUpdateRange(*h);
  if (!range) {
    return DavError::Make(400, "X-Update-Range must be bytes=A-B, bytes=A-, bytes=-N or append");
  }
  return WritePartially(req, *range);
}

DavResponse DavHandler::WritePartially(const DavRequest& req, const UpdateRange& range) {
  const ResourcePath& path = req.path;
  // The body's length must be known: it decides where an append ends and what a range holds.
  if (req.content_length < 0) return DavError::Make(411, "a partial upload needs Content-Length");
  const uint64_t length = static_cast<uint64_t>(req.content_length);
  auto file = fs_.OpenForUpdate(path);
  if (!file.ok()) {
    if (file.status().code() == StatusCode::kIsADirectory) {
      return DavError::Make(405, "a partial upload into a collection");
    }
    if (file.status().code() == StatusCode::kNotADirectory) {
      return DavError::Make(404, "no such file");
    }
    return DavError::FromStorage(file.status());  // 404 for a missing file: nothing to update
  }
  const FileInfo info = file.value()->info();
  // If-Match on the ETag: a resumed upload must not write into a file changed meanwhile.
  DavError err = CheckConditions(req, path, &info, {{path, /*with_members=*/false, false}});
  if (!err.ok()) return err;
  ResolvedWrite where = Resolve(range, info.size, length);
  if (where.status == 416) {
    DavResponse r = DavError::Make(416, "the range starts past the end of the file");
    r.AddHeader("Content-Range", "bytes */" + std::to_string(info.size));
    return r;
  }
  if (where.status != 0) {
    return DavError::Make(where.status, "the body's length does not match the range");
  }
  if (settings_.max_upload_bytes > 0 && where.new_size > settings_.max_upload_bytes) {
    return DavError::Make(413, "the file would be larger than the configured maximum");
  }
  FileInfo after;
  Status s = PartialUpdate::Apply(fs_, journal_, path, *file.value(), where.offset, length,
                                  *req.body, &after);
  if (!s.ok()) {
    if (s.code() == StatusCode::kIoError && s.message().rfind("incomplete", 0) == 0) {
      return DavError::Make(400, s.message() + "; the file is as it was");
    }
    return DavError::FromStorage(s);
  }
  DavResponse r = DavResponse::Empty(204);
  r.AddHeader("ETag", ETagFor(after));
  return r;
}

}  // namespace keepdav::webdav
