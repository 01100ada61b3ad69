#include "webdav/live_properties.h"

#include "webdav/conditional.h"
#include "webdav/mime_types.h"
#include "webdav/xml_request.h"

namespace keepdav::webdav {

namespace {

void AppendDecimal(std::string* out, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) out->push_back(digits[--n]);
}

}  // namespace

const std::vector<LivePropertyDef>& LiveProperties() {
  static const std::vector<LivePropertyDef> kDefs = {
      {LiveProperty::kCreationDate, "creationdate", true, true, false},
      {LiveProperty::kDisplayName, "displayname", true, false, false},
      {LiveProperty::kGetContentLength, "getcontentlength", true, true, true},
      {LiveProperty::kGetContentType, "getcontenttype", true, true, true},
      {LiveProperty::kGetETag, "getetag", true, true, false},
      {LiveProperty::kGetLastModified, "getlastmodified", true, true, false},
      {LiveProperty::kResourceType, "resourcetype", true, true, false},
      {LiveProperty::kSupportedLock, "supportedlock", true, true, false},
      {LiveProperty::kLockDiscovery, "lockdiscovery", true, true, false},
      {LiveProperty::kQuotaAvailableBytes, "quota-available-bytes", false, true, false},
      {LiveProperty::kQuotaUsedBytes, "quota-used-bytes", false, true, false},
  };
  return kDefs;
}

const LivePropertyDef* FindLiveProperty(const storage::PropertyName& name) {
  if (name.ns != "DAV:") return nullptr;
  for (const LivePropertyDef& def : LiveProperties()) {
    if (name.local == def.local_name) return &def;
  }
  return nullptr;
}

bool AppendLiveValue(const LivePropertyDef& def, const storage::ResourcePath& path,
                     const storage::FileInfo& info, LiveValueSources& sources, std::string* out) {
  if (def.files_only && info.IsDirectory()) return false;
  switch (def.id) {
    case LiveProperty::kCreationDate:
      AppendIso8601Date(out, info.birth_ns / 1000000000);
      return true;
    case LiveProperty::kDisplayName:
      AppendXmlEscaped(out, path.Name());
      return true;
    case LiveProperty::kGetContentLength:
      AppendDecimal(out, info.size);
      return true;
    case LiveProperty::kGetContentType:
      AppendXmlEscaped(out, ContentTypeFor(path.Name()));
      return true;
    case LiveProperty::kGetETag:
      AppendETag(out, info);  // hex digits, '-' and quotes: nothing to escape in content
      return true;
    case LiveProperty::kGetLastModified:
      AppendHttpDate(out, info.mtime_ns / 1000000000);
      return true;
    case LiveProperty::kResourceType:
      if (info.IsDirectory()) out->append("<D:collection/>");
      return true;
    case LiveProperty::kSupportedLock:
      if (sources.supported_lock) out->append(*sources.supported_lock);
      return true;
    case LiveProperty::kLockDiscovery:
      if (sources.lock_discovery) sources.lock_discovery(path, out);
      return true;
    case LiveProperty::kQuotaAvailableBytes:
      out->append(std::to_string(sources.space().available_bytes));
      return true;
    case LiveProperty::kQuotaUsedBytes:
      out->append(std::to_string(sources.space().used_bytes));
      return true;
  }
  return false;
}

}  // namespace keepdav::webdav
