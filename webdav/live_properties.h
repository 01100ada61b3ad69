// The live properties keepdav computes (RFC 4918 §15, RFC 4331 §3) and which of them are
// protected (PROPPATCH answers 403 cannot-modify-protected-property) or part of allprop.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "storage/file_system.h"
#include "storage/property_store.h"

namespace keepdav::webdav {

enum class LiveProperty {
  kCreationDate,
  kDisplayName,
  kGetContentLength,
  kGetContentType,
  kGetETag,
  kGetLastModified,
  kResourceType,
  kSupportedLock,
  kLockDiscovery,
  kQuotaAvailableBytes,
  kQuotaUsedBytes,
};

struct LivePropertyDef {
  LiveProperty id;
  const char* local_name;  // in the DAV: namespace
  bool in_allprop;         // RFC 4331 quota properties are not (§3)
  bool is_protected;       // displayname is not: a client may set it as a dead property
  bool files_only;         // getcontentlength/getcontenttype are not defined on collections
};

const std::vector<LivePropertyDef>& LiveProperties();
// nullptr when `name` is not one of ours.
const LivePropertyDef* FindLiveProperty(const storage::PropertyName& name);

// What computing values may need beyond the FileInfo, fetched lazily once per request.
struct LiveValueSources {
  std::function<storage::SpaceInfo()> space;
  // Inner XML of DAV:lockdiscovery / DAV:supportedlock for a resource ("" when none).
  // lock_discovery appends to its second argument.
  std::function<void(const storage::ResourcePath&, std::string*)> lock_discovery;
  const std::string* supported_lock = nullptr;  // the same for every resource
};

// Appends the inner XML of the property's value to `out`. Returns false when the property is not
// defined on this resource (e.g. getcontentlength on a collection).
bool AppendLiveValue(const LivePropertyDef& def, const storage::ResourcePath& path,
                     const storage::FileInfo& info, LiveValueSources& sources, std::string* out);

}  // namespace keepdav::webdav
