// PROPFIND (RFC 4918 §9.1): a walk that streams one <response> per resource.
#include <Poco/Logger.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>

#include "storage/ascii.h"
#include "storage/file_checksummer.h"
#include "webdav/authorisation.h"
#include "webdav/collection_url.h"
#include "webdav/dav_handler.h"
#include "webdav/live_properties.h"
#include "webdav/multistatus_writer.h"
#include "webdav/tree_walker.h"

namespace keepdav::webdav {

using storage::DeadProperty;
using storage::FileInfo;
using storage::PropertyName;
using storage::ResourcePath;
using storage::Status;

namespace {

// ownCloud's checksum property (http://owncloud.org/ns), what rclone's owncloud vendor asks for:
// one <oc:checksum> of space-separated "TYPE:hex" (rclone lower-cases it and takes sha1: and
// md5:, backend/webdav/api/types.go Prop.Hashes). Only those two: they are what ownCloud's
// clients read, and a listing of 10,000 files is 730 KB smaller without SHA-256, which is
// offered as Repr-Digest on GET and HEAD instead (repr_digest.h). The "oc" prefix is declared
// once on the root element of a listing that asks for it (kOcNamespace).
constexpr char kOcNamespace[] = " xmlns:oc=\"http://owncloud.org/ns\"";

bool IsOcChecksums(const PropertyName& name) {
  return name.local == "checksums" && name.ns == "http://owncloud.org/ns";
}

void AppendOcChecksums(const storage::FileChecksums& sums, std::string* out) {
  out->append("<oc:checksums><oc:checksum>SHA1:");
  out->append(sums.sha1);
  out->append(" MD5:");
  out->append(sums.md5);
  out->append("</oc:checksum></oc:checksums>");
}

// The allprop set of the clients named in DavSettings::compact_allprop_agents (Windows'
// mini-redirector, which refuses an answer over 1,000,000 bytes) leaves these out, which saves
// about 400 of the ~770 bytes of a file's entry:
//   displayname     keepdav's is the last segment of the href, which the client has already;
//   getcontenttype  Windows goes by the name's extension, never by this;
//   supportedlock   the same 240 bytes for every resource, and OPTIONS' "DAV: 1, 2" says it;
//   lockdiscovery   when the resource has no lock (an empty element); an active lock is listed.
// RFC 4918 §9.1 allows it: "'allprop' does not return values for all live properties. WebDAV
// servers increasingly have expensive-to-calculate or lengthy properties ... and do not return
// all properties already", and a client gets any of them by name or with DAV:include. Since
// §14.2 still describes allprop as the live properties RFC 4918 defines, every other client
// (litmus among them) gets the full set. A property asked for by name is always answered.
bool LeftOutOfCompactAllprop(LiveProperty id) {
  return id == LiveProperty::kDisplayName || id == LiveProperty::kGetContentType ||
         id == LiveProperty::kSupportedLock;
}

// Whether the request's User-Agent contains one of `agents` (ASCII case ignored).
bool AgentWantsCompactAllprop(const DavRequest& req, const std::vector<std::string>& agents) {
  if (agents.empty()) return false;
  auto it = req.headers.find("User-Agent");
  if (it == req.headers.end()) return false;
  const std::string ua = storage::ascii::ToLower(it->second);
  for (const std::string& agent : agents) {
    if (!agent.empty() && ua.find(storage::ascii::ToLower(agent)) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// Writes the <response> of one resource for a parsed PROPFIND.
class PropfindResponder {
 public:
  // Where DAV:lockdiscovery and DAV:supportedlock come from (DavHandler::SetLockSources).
  LiveValueSources& sources() { return sources_; }
  // The target's dead properties, read before the 207 was begun (so a failure to read them is
  // the request's status): Write uses them for the first resource.
  void set_target_properties(std::vector<DeadProperty> dead) {
    target_dead_ = std::move(dead);
    target_preloaded_ = true;
  }

  // oc:checksums comes from `checksums`: stored sums, or computed while this request has read
  // fewer than `checksum_budget` bytes for them (DavSettings::checksum_listing_budget_bytes).
  PropfindResponder(const PropfindRequest& request, storage::PropertyStore& props,
                    storage::FileSystem& fs, storage::ChecksumCache& checksums,
                    uint64_t checksum_budget, MultistatusWriter& writer, const UrlSpace& space,
                    bool compact_allprop)
      : request_(request),
        url_space_(space),
        props_(props),
        checksums_(checksums),
        checksum_budget_(checksum_budget),
        writer_(writer) {
    // allprop: the live properties RFC 4918 defines, plus those named in DAV:include.
    for (const LivePropertyDef& def : LiveProperties()) {
      bool included = def.in_allprop && !(compact_allprop && LeftOutOfCompactAllprop(def.id));
      for (const PropertyName& inc : request_.include) {
        included = included || (inc.ns == "DAV:" && inc.local == def.local_name);
      }
      if (included) allprop_defs_.push_back(&def);
    }
    omit_empty_lockdiscovery_ = compact_allprop && request_.kind == PropfindRequest::Kind::kAllProp;
    // What each named property is, looked up once for all the responses (a listing of 10,000
    // files asking for four names spent a third of its instructions comparing them per file).
    for (const PropertyName& name : request_.props) {
      named_.push_back(Named{&name, IsOcChecksums(name), FindLiveProperty(name)});
    }
    sources_.space = [this, &fs]() {
      if (!space_) {
        auto s = fs.Space();
        space_ = s.ok() ? s.value() : storage::SpaceInfo();
      }
      return *space_;
    };
  }

  // `target` is the request's own resource: its properties are read on their own; those of
  // members are read one folder at a time (one query per folder instead of one per member).
  Status Write(const ResourcePath& path, const FileInfo& info) {
    std::vector<DeadProperty> dead;
    // Without them the answer would show properties as missing: the walk stops instead, and
    // the response is cut off (HandlePropfind).
    Status got = DeadPropertiesOf(path, &dead);
    if (!got.ok()) return got;
    std::string_view view = url_space_.ViewOf(path);
    writer_.BeginResponseForPath(url_space_.base, view, info.IsDirectory() && view != "/");
    switch (request_.kind) {
      case PropfindRequest::Kind::kPropName:
        WriteNames(path, info, dead);
        break;
      case PropfindRequest::Kind::kAllProp:
        WriteAll(path, info, dead);
        break;
      case PropfindRequest::Kind::kProp:
        WriteRequested(path, info, dead);
        break;
    }
    writer_.EndResponse();
    return Status::Ok();
  }

 private:
  Status DeadPropertiesOf(const ResourcePath& path, std::vector<DeadProperty>* out) {
    if (!first_done_) {
      first_done_ = true;
      if (target_preloaded_) {
        *out = std::move(target_dead_);
        return Status::Ok();
      }
      auto got = props_.GetAll(path);
      if (!got.ok()) return got.status();
      *out = std::move(got.value());
      return Status::Ok();
    }
    // TreeWalker visits all members of one folder before moving on, so the cache holds one
    // folder at a time. The folder is compared as a prefix of the member's path: no ResourcePath
    // is built per member.
    std::string_view member = path.str();
    std::string_view folder = member.substr(0, std::max<size_t>(member.rfind('/'), 1));
    if (!folder_loaded_ || folder != folder_) {
      folder_.assign(folder);
      folder_loaded_ = true;
      folder_props_.clear();
      Status s =
          props_.ForEachInMembers(path.Parent(), [&](std::string_view name, const DeadProperty& p) {
            folder_props_[std::string(name)].push_back(p);
          });
      if (!s.ok()) {
        folder_loaded_ = false;
        return s;
      }
    }
    if (folder_props_.empty()) return Status::Ok();
    auto it = folder_props_.find(path.str());
    if (it != folder_props_.end()) *out = std::move(it->second);
    return Status::Ok();
  }

  static const DeadProperty* FindDead(const std::vector<DeadProperty>& dead,
                                      const PropertyName& name) {
    for (const DeadProperty& d : dead) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  // The DAV: property `local` among the dead ones (a client may have set displayname), without
  // building a PropertyName: this runs eleven times per member.
  static bool HasDeadDav(const std::vector<DeadProperty>& dead, const char* local) {
    for (const DeadProperty& d : dead) {
      if (d.name.ns == "DAV:" && d.name.local == local) return true;
    }
    return false;
  }

  void WriteNames(const ResourcePath& path, const FileInfo& info,
                  const std::vector<DeadProperty>& dead) {
    (void)path;
    writer_.BeginPropstat();
    for (const LivePropertyDef& def : LiveProperties()) {
      if (def.files_only && info.IsDirectory()) continue;
      if (!HasDeadDav(dead, def.local_name)) writer_.WriteDavProperty(def.local_name, {});
    }
    for (const DeadProperty& d : dead) writer_.WriteEmptyProperty(d.name);
    writer_.EndPropstat(200);
  }

  void WriteAll(const ResourcePath& path, const FileInfo& info,
                const std::vector<DeadProperty>& dead) {
    writer_.BeginPropstat();
    for (const LivePropertyDef* def : allprop_defs_) {
      if (!dead.empty() && HasDeadDav(dead, def->local_name)) continue;
      if (omit_empty_lockdiscovery_ && def->id == LiveProperty::kLockDiscovery) {
        writer_.WriteDavPropertyWith(def->local_name, [&](std::string* out) {
          const size_t before = out->size();
          return AppendLiveValue(*def, path, info, sources_, out) && out->size() > before;
        });
        continue;
      }
      WriteLive(*def, path, info);
    }
    for (const DeadProperty& d : dead) writer_.WriteRawElement(d.value);
    writer_.EndPropstat(200);
  }

  void WriteRequested(const ResourcePath& path, const FileInfo& info,
                      const std::vector<DeadProperty>& dead) {
    std::vector<const PropertyName*> missing;
    bool open = false;
    std::string_view checksums_xml;
    for (const Named& named : named_) {
      const PropertyName& name = *named.name;
      const DeadProperty* d = dead.empty() ? nullptr : FindDead(dead, name);
      if (!d && named.oc_checksums) {
        if (!OcChecksumsOf(path, info, &checksums_xml)) {
          missing.push_back(&name);
          continue;
        }
        if (!open) {
          writer_.BeginPropstat();
          open = true;
        }
        writer_.WriteRawElement(checksums_xml);
        continue;
      }
      const LivePropertyDef* def = d ? nullptr : named.live;
      if (!d && !(def && !(def->files_only && info.IsDirectory()))) {
        missing.push_back(&name);
        continue;
      }
      if (!open) {
        writer_.BeginPropstat();
        open = true;
      }
      if (d) {
        writer_.WriteRawElement(d->value);
      } else {
        WriteLive(*def, path, info);
      }
    }
    if (open) writer_.EndPropstat(200);
    if (!missing.empty()) {
      writer_.BeginPropstat();
      for (const PropertyName* name : missing) writer_.WriteEmptyProperty(*name);
      writer_.EndPropstat(404);
    }
  }

  // The oc:checksums element of a file into `out`; false (a 404 propstat) for a collection, when
  // the budget is spent, or when the sums cannot be had (logged).
  bool OcChecksumsOf(const ResourcePath& path, const FileInfo& info, std::string_view* out) {
    const bool is_target = !sums_first_done_;  // the walk writes the target first
    sums_first_done_ = true;
    if (!info.IsFile()) return false;
    if (StoredSumsXml(path, info, is_target, out)) return true;
    if (checksum_read_ >= checksum_budget_) return false;
    uint64_t read = 0;
    storage::Result<storage::FileChecksums> sums = checksums_.Get(path, info, &read);
    checksum_read_ += read;
    if (!sums.ok()) {
      Poco::Logger::get("keepdav.dav")
          .warning("PROPFIND %s: no checksums: %s", path.str(), sums.status().message());
      return false;
    }
    one_sums_.clear();
    AppendOcChecksums(sums.value(), &one_sums_);
    *out = one_sums_;
    return true;
  }

  // The oc:checksums element of `path` from its stored sums if they match `info`, into `out`.
  // The request's own target is looked up on its own; members one folder at a time, as dead
  // properties are: the folder's snapshot (ChecksumCache::Members, shared with the listings
  // before and after this one while nothing changes there) instead of a query per member.
  bool StoredSumsXml(const ResourcePath& path, const FileInfo& info, bool is_target,
                     std::string_view* out) {
    if (!is_target) {
      std::string_view member = path.str();
      std::string_view folder = member.substr(0, std::max<size_t>(member.rfind('/'), 1));
      if (!sums_folder_loaded_ || folder != sums_folder_) {
        sums_folder_.assign(folder);
        auto members = checksums_.Members(path.Parent());
        sums_folder_loaded_ = members.ok();
        folder_sums_ = sums_folder_loaded_ ? std::move(members).value() : nullptr;
      }
      if (sums_folder_loaded_) {
        const storage::FileChecksums* sums = folder_sums_->Find(storage::IdentityOf(info));
        if (!sums) return false;
        one_sums_.clear();
        AppendOcChecksums(*sums, &one_sums_);
        *out = one_sums_;
        return true;
      }
    }
    storage::Result<storage::FileChecksums> sums = checksums_.Stored(path, info);
    if (!sums.ok()) return false;
    one_sums_.clear();
    AppendOcChecksums(sums.value(), &one_sums_);
    *out = one_sums_;
    return true;
  }

  void WriteLive(const LivePropertyDef& def, const ResourcePath& path, const FileInfo& info) {
    writer_.WriteDavPropertyWith(def.local_name, [&](std::string* out) {
      return AppendLiveValue(def, path, info, sources_, out);
    });
  }

  const PropfindRequest& request_;
  const UrlSpace& url_space_;
  storage::PropertyStore& props_;
  storage::ChecksumCache& checksums_;
  const uint64_t checksum_budget_;
  uint64_t checksum_read_ = 0;  // bytes read for oc:checksums so far
  bool sums_first_done_ = false;
  bool sums_folder_loaded_ = false;
  std::string sums_folder_;
  std::shared_ptr<const storage::MemberChecksums> folder_sums_;  // sums_folder_'s members
  std::string one_sums_;                                         // the element being written
  struct Named {
    const PropertyName* name;
    bool oc_checksums;
    const LivePropertyDef* live;  // null: not a live property
  };
  std::vector<Named> named_;  // request_.props, resolved
  MultistatusWriter& writer_;
  LiveValueSources sources_;
  std::optional<storage::SpaceInfo> space_;
  std::vector<const LivePropertyDef*> allprop_defs_;
  bool omit_empty_lockdiscovery_ = false;
  bool first_done_ = false;
  bool target_preloaded_ = false;
  std::vector<DeadProperty> target_dead_;
  bool folder_loaded_ = false;
  std::string folder_;
  std::unordered_map<std::string, std::vector<DeadProperty>> folder_props_;
};

}  // namespace

DavResponse DavHandler::HandlePropfind(const DavRequest& req) {
  const ResourcePath& path = req.path;
  std::optional<Depth> parsed_depth = req.depth.Or(Depth::kInfinity);
  if (!parsed_depth) return DavError::Make(400, "Depth must be 0, 1 or infinity");
  const Depth depth = *parsed_depth;
  if (depth == Depth::kInfinity && !settings_.allow_propfind_infinity) {
    return DavError::Make(403, "PROPFIND with Depth: infinity is disabled",
                          "propfind-finite-depth");
  }
  std::string body;
  DavError err = ReadBody(*req.body, req.content_length, settings_.xml, &body);
  if (!err.ok()) return err;
  auto request = std::make_shared<PropfindRequest>();
  err = ParsePropfind(body, settings_.xml, request.get());
  if (!err.ok()) return err;
  auto info = fs_.Stat(path);
  if (!info.ok()) return DavError::FromStorage(info.status());

  // What the stores say of the target is read before the 207 begins, so a database that cannot
  // be reached makes the request's status (503 with Retry-After), not a wrong answer.
  auto lock_sources = std::make_shared<LiveValueSources>();
  err = SetLockSources(req.path, depth, req.space, lock_sources.get());
  if (!err.ok()) return err;
  auto target_dead = props_.GetAll(path);
  if (!target_dead.ok()) return DavError::FromStorage(target_dead.status());
  auto target_props = std::make_shared<std::vector<DeadProperty>>(std::move(target_dead.value()));

  // The 207 streams from the first member: the walk runs while the body is sent, and what fails
  // on the way is a propstat of its own or ends the walk early (logged), never another status.
  // Dead properties of members that cannot be read cut the response off (the connection closes
  // without the body's end), so the client sees a failure, not properties missing.
  const FileInfo root_info = info.value();
  const bool compact = request->kind == PropfindRequest::Kind::kAllProp &&
                       AgentWantsCompactAllprop(req, settings_.compact_allprop_agents);
  DavResponse response = DavResponse::Streamed(
      207, "application/xml; charset=utf-8",
      [this, &req, request, root_info, depth, compact, lock_sources,
       target_props](std::ostream& out) {
        MultistatusWriter writer(out);
        const bool wants_sums =
            request->kind == PropfindRequest::Kind::kProp &&
            std::any_of(request->props.begin(), request->props.end(), IsOcChecksums);
        writer.Begin(wants_sums ? kOcNamespace : "");
        PropfindResponder responder(*request, props_, fs_, checksums_,
                                    settings_.checksum_listing_budget_bytes, writer, req.space,
                                    compact);
        responder.sources().lock_discovery = lock_sources->lock_discovery;
        responder.sources().supported_lock = lock_sources->supported_lock;
        responder.set_target_properties(std::move(*target_props));
        TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
        // A member the user may not read is not listed, and the walk does not enter it
        // (authorisation.h); checked only when some rule below the target could hide one.
        if (ListingNeedsFilter(*req.access, req, req.path)) {
          walker.set_member_filter(
              [&req](const ResourcePath& p) { return !MayRead(*req.access, req, p); });
        }
        Status s = walker.Walk(
            req.path, root_info, depth,
            [&](const ResourcePath& p, const FileInfo& fi) { return responder.Write(p, fi); });
        if (!s.ok() && (s.code() == storage::StatusCode::kUnavailable ||
                        s.code() == storage::StatusCode::kBusy)) {
          // A bad stream: the sink ends the connection without the body's last chunk.
          Poco::Logger::get("keepdav.dav")
              .warning("PROPFIND %s: dead properties unavailable, response cut off: %s",
                       req.path.str(), s.message());
          out.setstate(std::ios::badbit);
          return;
        }
        writer.End();
        if (!s.ok()) {
          Poco::Logger::get("keepdav.dav")
              .warning("PROPFIND %s stopped early: %s", req.path.str(), s.message());
        }
      });
  AddCollectionLocation(req, root_info.IsDirectory(), &response);
  return response;
}

}  // namespace keepdav::webdav
