#include "server/password_file.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/basic_credentials.h"

namespace keepdav::server {
namespace {

constexpr char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void Md5(const std::string& data, unsigned char out[16]) {
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), out, &length, EVP_md5(), nullptr);
}

void To64(std::string* out, unsigned long value, int count) {
  while (count-- > 0) {
    out->push_back(kItoa64[value & 0x3f]);
    value >>= 6;
  }
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The crypt(3) schemes we hand to libxcrypt.
bool IsCryptScheme(std::string_view hash) {
  return StartsWith(hash, "$2y$") || StartsWith(hash, "$2b$") || StartsWith(hash, "$2a$") ||
         StartsWith(hash, "$5$") || StartsWith(hash, "$6$") || StartsWith(hash, "$y$");
}

std::string CheckHash(std::string_view hash) {
  if (StartsWith(hash, "$apr1$")) {
    std::string_view rest = hash.substr(6);
    size_t dollar = rest.find('$');
    // Salt and hash in crypt's base-64 alphabet, as htpasswd writes them: anything else (the
    // htpasswd fuzz target found a CR as the 22nd hash byte accepted, which a rewritten file
    // loses) cannot be an apr1 hash.
    if (dollar == std::string_view::npos || dollar == 0 || dollar > 8 ||
        rest.size() - dollar - 1 != 22 ||
        rest.substr(0, dollar).find_first_not_of(kItoa64) != std::string_view::npos ||
        rest.substr(dollar + 1).find_first_not_of(kItoa64) != std::string_view::npos) {
      return "malformed $apr1$ hash";
    }
    return "";
  }
  if (StartsWith(hash, "{SHA}")) {
    std::string digest;
    if (!DecodeBase64Strict(hash.substr(5), &digest) || digest.size() != SHA_DIGEST_LENGTH) {
      return "malformed {SHA} hash";
    }
    return "";
  }
  if (IsCryptScheme(hash)) {
    // libxcrypt validates the setting itself: a malformed one yields "*0"/"*1" or NULL.
    struct crypt_data data;
    std::memset(&data, 0, sizeof data);
    std::string copy(hash);
    const char* result = crypt_r("probe", copy.c_str(), &data);
    if (result == nullptr || result[0] == '*') return "malformed or unsupported crypt hash";
    return "";
  }
  if (hash.size() == 13 && hash.find('$') == std::string_view::npos) {
    return "DES crypt hash refused (weak; use htpasswd -B)";
  }
  return "plain-text or unknown password hash refused (use htpasswd -B)";
}

}  // namespace

std::string Apr1Crypt(std::string_view password, std::string_view setting) {
  static constexpr std::string_view kMagic = "$apr1$";
  if (!StartsWith(setting, kMagic)) return "";
  std::string_view salt = setting.substr(kMagic.size());
  salt = salt.substr(0, std::min(salt.find('$'), size_t{8}));
  if (salt.empty()) return "";
  const std::string pw(password);
  unsigned char alternate[16];
  Md5(pw + std::string(salt) + pw, alternate);
  std::string context = pw + std::string(kMagic) + std::string(salt);
  for (size_t left = pw.size(); left > 0; left -= std::min<size_t>(left, 16)) {
    context.append(reinterpret_cast<const char*>(alternate), std::min<size_t>(left, 16));
  }
  for (size_t bits = pw.size(); bits != 0; bits >>= 1) {
    context.push_back((bits & 1) ? '\0' : (pw.empty() ? '\0' : pw[0]));
  }
  unsigned char final_digest[16];
  Md5(context, final_digest);
  for (int round = 0; round < 1000; ++round) {
    std::string step;
    std::string digest(reinterpret_cast<const char*>(final_digest), 16);
    step += (round & 1) ? pw : digest;
    if (round % 3) step += salt;
    if (round % 7) step += pw;
    step += (round & 1) ? digest : pw;
    Md5(step, final_digest);
  }
  std::string out = std::string(kMagic) + std::string(salt) + "$";
  const unsigned char* f = final_digest;
  To64(&out, (static_cast<unsigned long>(f[0]) << 16) | (f[6] << 8) | f[12], 4);
  To64(&out, (static_cast<unsigned long>(f[1]) << 16) | (f[7] << 8) | f[13], 4);
  To64(&out, (static_cast<unsigned long>(f[2]) << 16) | (f[8] << 8) | f[14], 4);
  To64(&out, (static_cast<unsigned long>(f[3]) << 16) | (f[9] << 8) | f[15], 4);
  To64(&out, (static_cast<unsigned long>(f[4]) << 16) | (f[10] << 8) | f[5], 4);
  To64(&out, f[11], 2);
  return out;
}

bool VerifyPasswordHash(std::string_view password, const std::string& hash) {
  if (StartsWith(hash, "$apr1$")) return ConstantTimeEquals(Apr1Crypt(password, hash), hash);
  if (StartsWith(hash, "{SHA}")) {
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1(reinterpret_cast<const unsigned char*>(password.data()), password.size(), digest);
    std::string stored;
    if (!DecodeBase64Strict(std::string_view(hash).substr(5), &stored)) return false;
    return ConstantTimeEquals(
        std::string_view(reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH), stored);
  }
  if (IsCryptScheme(hash)) {
    if (password.find('\0') != std::string_view::npos) return false;
    struct crypt_data data;
    std::memset(&data, 0, sizeof data);
    const std::string pw(password);
    const char* result = crypt_r(pw.c_str(), hash.c_str(), &data);
    if (result == nullptr || result[0] == '*') return false;
    return ConstantTimeEquals(result, hash);
  }
  return false;
}

storage::Result<std::map<std::string, std::string>> PasswordFile::Parse(std::string_view contents,
                                                                        const std::string& origin) {
  std::map<std::string, std::string> users;
  size_t line_number = 0;
  size_t position = 0;
  while (position < contents.size()) {
    size_t end = contents.find('\n', position);
    if (end == std::string_view::npos) end = contents.size();
    std::string_view line = contents.substr(position, end - position);
    position = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto error = [&](const std::string& what) {
      return storage::Status::InvalidArgument(origin + ":" + std::to_string(line_number) + ": " +
                                              what);
    };
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return error("no ':' between user and hash");
    std::string user(line.substr(0, colon));
    std::string hash(line.substr(colon + 1));
    if (user.empty()) return error("empty user name");
    if (hash.find('\0') != std::string::npos || user.find('\0') != std::string::npos) {
      return error("NUL byte");
    }
    std::string problem = CheckHash(hash);
    if (!problem.empty()) return error(problem + " for user \"" + user + "\"");
    if (!users.emplace(user, hash).second) return error("user \"" + user + "\" appears twice");
  }
  return users;
}

bool PasswordFile::Identity::operator==(const Identity& other) const {
  return device == other.device && inode == other.inode && size == other.size &&
         mtime.tv_sec == other.mtime.tv_sec && mtime.tv_nsec == other.mtime.tv_nsec;
}

storage::Status PasswordFile::ReadFile(std::shared_ptr<const Users>* users,
                                       Identity* identity) const {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return storage::Status::FromErrno(errno, "open " + path_);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return storage::Status::FromErrno(err, "stat " + path_);
  }
  std::string contents;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return storage::Status::FromErrno(err, "read " + path_);
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > (64u << 20)) {
      ::close(fd);
      return storage::Status::TooLarge(path_ + ": password file larger than 64 MiB");
    }
  }
  ::close(fd);
  auto parsed = Parse(contents, path_);
  OPENSSL_cleanse(contents.data(), contents.size());
  if (!parsed.ok()) return parsed.status();
  *users = std::make_shared<const Users>(std::move(parsed.value()));
  identity->device = st.st_dev;
  identity->inode = st.st_ino;
  identity->size = st.st_size;
  identity->mtime = st.st_mtim;
  return storage::Status::Ok();
}

storage::Result<std::unique_ptr<PasswordFile>> PasswordFile::Load(const std::string& path) {
  std::unique_ptr<PasswordFile> file(new PasswordFile(path));
  storage::Status status = file->Reload();
  if (!status.ok()) return status;
  return file;
}

std::shared_ptr<const PasswordFile::Users> PasswordFile::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return users_;
}

bool PasswordFile::Verify(std::string_view user, std::string_view password) const {
  std::shared_ptr<const Users> users = Snapshot();
  if (!users) return false;
  auto it = users->find(std::string(user));
  if (it == users->end()) return false;
  return VerifyPasswordHash(password, it->second);
}

bool PasswordFile::HasUser(std::string_view user) const {
  std::shared_ptr<const Users> users = Snapshot();
  return users && users->count(std::string(user)) > 0;
}

size_t PasswordFile::UserCount() const {
  std::shared_ptr<const Users> users = Snapshot();
  return users ? users->size() : 0;
}

storage::Status PasswordFile::Reload() {
  std::lock_guard<std::mutex> reload_lock(reload_mutex_);
  std::shared_ptr<const Users> users;
  Identity identity;
  storage::Status status = ReadFile(&users, &identity);
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mutex_);
  users_ = std::move(users);
  identity_ = identity;
  return storage::Status::Ok();
}

storage::Status PasswordFile::ReloadIfChanged(bool* reloaded) {
  *reloaded = false;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) return storage::Status::FromErrno(errno, "stat " + path_);
  Identity now;
  now.device = st.st_dev;
  now.inode = st.st_ino;
  now.size = st.st_size;
  now.mtime = st.st_mtim;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (now == identity_) return storage::Status::Ok();
  }
  storage::Status status = Reload();
  if (status.ok()) *reloaded = true;
  return status;
}

}  // namespace keepdav::server
