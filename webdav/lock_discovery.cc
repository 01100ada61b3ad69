#include "webdav/lock_discovery.h"

#include <algorithm>

#include "webdav/xml_request.h"

namespace keepdav::webdav {

const std::string& SupportedLockXml() {
  static const std::string kXml =
      "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
      "<D:locktype><D:write/></D:locktype></D:lockentry>"
      "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
      "<D:locktype><D:write/></D:locktype></D:lockentry>";
  return kXml;
}

void AppendActiveLock(std::string* out, const storage::LockRecord& lock,
                      const std::string& root_href, int64_t now) {
  out->append("<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>");
  out->append(lock.exclusive ? "<D:exclusive/>" : "<D:shared/>");
  out->append("</D:lockscope><D:depth>");
  out->append(lock.infinite_depth ? "infinity" : "0");
  out->append("</D:depth>");
  // The owner element as the client sent it, namespace declarations included (xml_request.h).
  out->append(lock.owner);
  // The time left rather than the time granted: what a client needs to plan its refresh.
  out->append("<D:timeout>Second-");
  out->append(std::to_string(std::max<int64_t>(1, lock.expires_at - now)));
  out->append("</D:timeout><D:locktoken><D:href>");
  AppendXmlEscaped(out, lock.token);
  out->append("</D:href></D:locktoken><D:lockroot><D:href>");
  AppendXmlEscaped(out, root_href);
  out->append("</D:href></D:lockroot></D:activelock>");
}

}  // namespace keepdav::webdav
