// PROPFIND (RFC 4918 §9.1): a walk that streams one <response> per resource.
#include <Poco/Logger.h>

#include <optional>

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

// Writes the <response> of one resource for a parsed PROPFIND.
class PropfindResponder {
 public:
  // Where DAV:lockdiscovery and DAV:supportedlock come from (DavHandler::SetLockSources).
  LiveValueSources& sources() { return sources_; }

  PropfindResponder(const PropfindRequest& request, storage::PropertyStore& props,
                    storage::FileSystem& fs, MultistatusWriter& writer)
      : request_(request), props_(props), writer_(writer) {
    sources_.space = [this, &fs]() {
      if (!space_) {
        auto s = fs.Space();
        space_ = s.ok() ? s.value() : storage::SpaceInfo();
      }
      return *space_;
    };
  }

  Status Write(const ResourcePath& path, const FileInfo& info) {
    std::vector<DeadProperty> dead;
    auto got = props_.GetAll(path);
    if (got.ok()) {
      dead = std::move(got.value());
    } else {
      Poco::Logger::get("keepdav.dav")
          .warning("PROPFIND %s: dead properties unavailable: %s", path.str(),
                   got.status().message());
    }
    std::string href = EncodeHrefPath(path.str());
    if (info.IsDirectory() && !path.IsRoot()) href.push_back('/');
    writer_.BeginResponse(href);
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
  static const DeadProperty* FindDead(const std::vector<DeadProperty>& dead,
                                      const PropertyName& name) {
    for (const DeadProperty& d : dead) {
      if (d.name == name) return &d;
    }
    return nullptr;
  }

  void WriteNames(const ResourcePath& path, const FileInfo& info,
                  const std::vector<DeadProperty>& dead) {
    (void)path;
    writer_.BeginPropstat();
    for (const LivePropertyDef& def : LiveProperties()) {
      if (def.files_only && info.IsDirectory()) continue;
      PropertyName name{"DAV:", def.local_name};
      if (!FindDead(dead, name)) writer_.WriteEmptyProperty(name);
    }
    for (const DeadProperty& d : dead) writer_.WriteEmptyProperty(d.name);
    writer_.EndPropstat(200);
  }

  void WriteAll(const ResourcePath& path, const FileInfo& info,
                const std::vector<DeadProperty>& dead) {
    writer_.BeginPropstat();
    for (const LivePropertyDef& def : LiveProperties()) {
      PropertyName name{"DAV:", def.local_name};
      bool included = def.in_allprop;
      for (const PropertyName& inc : request_.include) included = included || inc == name;
      if (!included || FindDead(dead, name)) continue;
      WriteLive(def, path, info);
    }
    for (const DeadProperty& d : dead) writer_.WriteRawElement(d.value);
    writer_.EndPropstat(200);
  }

  void WriteRequested(const ResourcePath& path, const FileInfo& info,
                      const std::vector<DeadProperty>& dead) {
    std::vector<const PropertyName*> missing;
    bool open = false;
    for (const PropertyName& name : request_.props) {
      const DeadProperty* d = FindDead(dead, name);
      const LivePropertyDef* def = d ? nullptr : FindLiveProperty(name);
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

  void WriteLive(const LivePropertyDef& def, const ResourcePath& path, const FileInfo& info) {
    value_.clear();
    if (!AppendLiveValue(def, path, info, sources_, &value_)) return;
    PropertyName name{"DAV:", def.local_name};
    if (value_.empty()) {
      writer_.WriteEmptyProperty(name);
    } else {
      writer_.WriteProperty(name, value_);
    }
  }

  const PropfindRequest& request_;
  storage::PropertyStore& props_;
  MultistatusWriter& writer_;
  LiveValueSources sources_;
  std::optional<storage::SpaceInfo> space_;
  std::string value_;
};

}  // namespace

DavError DavHandler::HandlePropfind(const DavRequest& req, ResponseSink& sink) {
  ResourcePath path;
  DavError err = ParseTarget(req, &path);
  if (!err.ok()) return err;
  int depth = 0;
  if (!ParseDepth(req, TreeWalker::kInfinity, &depth)) {
    return DavError::Make(400, "Depth must be 0, 1 or infinity");
  }
  if (depth == TreeWalker::kInfinity && !settings_.allow_propfind_infinity) {
    return DavError::Make(403, "PROPFIND with Depth: infinity is disabled",
                          "propfind-finite-depth");
  }
  std::string body;
  err = ReadBody(*req.body, req.content_length, settings_.xml, &body);
  if (!err.ok()) return err;
  PropfindRequest request;
  err = ParsePropfind(body, settings_.xml, &request);
  if (!err.ok()) return err;
  auto info = fs_.Stat(path);
  if (!info.ok()) return DavError::FromStorage(info.status());

  sink.SetStatus(207);
  sink.SetHeader("Content-Type", "application/xml; charset=utf-8");
  MultistatusWriter writer(sink.SendBody(-1));
  writer.Begin();
  PropfindResponder responder(request, props_, fs_, writer);
  SetLockSources(path, depth, &responder.sources());
  TreeWalker walker(fs_, *req.progress, settings_.max_tree_depth);
  Status s = walker.Walk(path, info.value(), depth, [&](const ResourcePath& p, const FileInfo& fi) {
    return responder.Write(p, fi);
  });
  writer.End();
  if (!s.ok()) {
    Poco::Logger::get("keepdav.dav")
        .warning("PROPFIND %s stopped early: %s", path.str(), s.message());
  }
  return DavError::Ok();
}

}  // namespace keepdav::webdav
