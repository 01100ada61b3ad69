#include "webdav/access_policy.h"

#include <algorithm>

namespace keepdav::webdav {

using storage::ResourcePath;

AccessPolicy AccessPolicy::AllowAll() {
  AccessPolicy p;
  p.allow_all_ = true;
  p.anonymous_.rules.push_back({ResourcePath(), Access::kWrite, 0});
  p.authenticated_ = p.anonymous_;
  return p;
}

AccessPolicy AccessPolicy::AuthenticatedUsersOnly() {
  AccessPolicy p;
  p.authenticated_.rules.push_back({ResourcePath(), Access::kWrite, 0});
  return p;
}

AccessPolicy::Principal AccessPolicy::Merge(const AccessSection& defaults,
                                            const AccessSection* own) {
  Principal p;
  p.rules = defaults.rules;
  if (defaults.root) p.root = *defaults.root;
  if (!own) return p;
  if (own->root) p.root = *own->root;
  for (const AccessRule& r : own->rules) {
    auto same = std::find_if(p.rules.begin(), p.rules.end(),
                             [&](const AccessRule& d) { return d.path == r.path; });
    if (same != p.rules.end()) {
      *same = r;
    } else {
      p.rules.push_back(r);
    }
  }
  return p;
}

AccessPolicy AccessPolicy::FromRules(const AccessRules& rules) {
  AccessPolicy p;
  p.anonymous_ = Merge(rules.anonymous, nullptr);
  p.authenticated_ = Merge(rules.authenticated, nullptr);
  for (const auto& [name, section] : rules.users) {
    p.users_.emplace(name, Merge(rules.authenticated, &section));
  }
  return p;
}

const AccessPolicy::Principal& AccessPolicy::For(const std::string& user) const {
  if (user.empty()) return anonymous_;
  auto it = users_.find(user);
  return it == users_.end() ? authenticated_ : it->second;
}

const ResourcePath& AccessPolicy::RootOf(const std::string& user) const {
  return For(user).root;
}

std::vector<std::pair<std::string, ResourcePath>> AccessPolicy::Roots() const {
  std::vector<std::pair<std::string, ResourcePath>> roots;
  roots.emplace_back("[anonymous]", anonymous_.root);
  roots.emplace_back("[authenticated]", authenticated_.root);
  for (const auto& [name, p] : users_) roots.emplace_back("[user " + name + "]", p.root);
  return roots;
}

Access AccessPolicy::AccessTo(const std::string& user, const ResourcePath& path) const {
  if (allow_all_) return Access::kWrite;
  const AccessRule* best = nullptr;
  for (const AccessRule& r : For(user).rules) {
    if (!r.path.Contains(path)) continue;
    if (!best || r.path.SegmentCount() > best->path.SegmentCount()) best = &r;
  }
  return best ? best->access : Access::kNone;
}

Access AccessPolicy::LeastWithin(const std::string& user, const ResourcePath& path) const {
  if (allow_all_) return Access::kWrite;
  Access least = AccessTo(user, path);
  for (const AccessRule& r : For(user).rules) {
    if (r.path != path && path.Contains(r.path)) least = std::min(least, r.access);
  }
  return least;
}

}  // namespace keepdav::webdav
