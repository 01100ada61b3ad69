#include "server/password_file.h"

#include <crypt.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "server/basic_credentials.h"

namespace keepdav::server {
namespace {

// The highest costs accepted (see CheckCryptHash).
constexpr uint64_t kMaxBcryptCost = 17;
constexpr uint64_t kMaxShaCryptRounds = 10000000;
constexpr uint64_t kMaxYescryptBytes = uint64_t{1} << 30;

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

bool AllItoa64(std::string_view s) {
  return s.find_first_not_of(kItoa64) == std::string_view::npos;
}

// Parses a decimal number without sign or leading zero; false unless all of `s` is one.
bool ParseDecimal(std::string_view s, uint64_t* value) {
  if (s.empty() || s.size() > 10 || (s[0] == '0' && s.size() > 1)) return false;
  *value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    *value = *value * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

// The shape of a crypt(3) hash and a cost a login can afford, checked without running the hash.
// Running it (crypt_r on a probe password, as this did before) costs 60 ms a user at bcrypt cost
// 10, and a mistyped or hostile cost (bcrypt 31, rounds=999999999, yescrypt N=2^40) held a load or
// a reload for hours; the htpasswd fuzz target found it as a 13 s timeout. The costs accepted are
// the highest the usual tools write: htpasswd -C 17 for bcrypt, and for yescrypt crypt_gensalt's
// cost 11 (N=2^18, r=32: 1 GiB). A login at those costs takes seconds; more would hold a worker
// thread for minutes on every first login.
std::string CheckCryptHash(std::string_view hash) {
  if (hash[1] == '2') {  // $2y$NN$ + 22 salt + 31 hash characters
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (hash.size() != 60 || !digit(hash[4]) || !digit(hash[5]) || hash[6] != '$' ||
        !AllItoa64(hash.substr(7))) {
      return "malformed bcrypt hash";
    }
    uint64_t cost =
        static_cast<uint64_t>(hash[4] - '0') * 10 + static_cast<uint64_t>(hash[5] - '0');
    if (cost < 4 || cost > 31) return "malformed bcrypt hash (cost " + std::to_string(cost) + ")";
    if (cost > kMaxBcryptCost) {
      return "bcrypt cost " + std::to_string(cost) + " above " + std::to_string(kMaxBcryptCost) +
             " (every login would take minutes; use htpasswd -B -C 17 or less)";
    }
  } else if (hash[1] == '5' || hash[1] == '6') {  // $5$[rounds=N$]salt$hash
    std::string_view rest = hash.substr(3);
    const char* scheme = hash[1] == '5' ? "SHA-256-crypt" : "SHA-512-crypt";
    if (StartsWith(rest, "rounds=")) {
      size_t dollar = rest.find('$');
      uint64_t rounds = 0;
      if (dollar == std::string_view::npos || !ParseDecimal(rest.substr(7, dollar - 7), &rounds) ||
          rounds < 1000 || rounds > 999999999) {
        return std::string("malformed ") + scheme + " hash (rounds)";
      }
      if (rounds > kMaxShaCryptRounds) {
        return std::string(scheme) + " rounds=" + std::to_string(rounds) + " above " +
               std::to_string(kMaxShaCryptRounds) + " (every login would take minutes)";
      }
      rest.remove_prefix(dollar + 1);
    }
    size_t dollar = rest.find('$');
    size_t digest = hash[1] == '5' ? 43 : 86;
    if (dollar == std::string_view::npos || dollar == 0 || dollar > 16 ||
        rest.size() - dollar - 1 != digest || !AllItoa64(rest.substr(0, dollar)) ||
        !AllItoa64(rest.substr(dollar + 1))) {
      return std::string("malformed ") + scheme + " hash";
    }
  } else {  // $y$ + flavour, N and r (one character each, as crypt_gensalt writes) $salt$hash
    std::string_view rest = hash.substr(3);
    auto index = [](char c) { return std::string_view(kItoa64).find(c); };
    if (rest.size() < 4 || rest[3] != '$' || !AllItoa64(rest.substr(0, 3))) {
      return "malformed or unsupported yescrypt hash (only flavour, N and r parameters)";
    }
    // Each parameter is one character of yescrypt's variable-length code: at most 47 means one
    // character; N is 2^(1 + value), r is 1 + value.
    size_t flavour = index(rest[0]), n_log2 = 1 + index(rest[1]), r = 1 + index(rest[2]);
    if (flavour > 47 || n_log2 > 48 || r > 48) {
      return "malformed or unsupported yescrypt hash (parameters)";
    }
    // The memory a login takes: 128 * r * N bytes.
    if ((uint64_t{128} * r << n_log2) > kMaxYescryptBytes) {
      return "yescrypt parameters needing more than 1 GiB a login (N=2^" + std::to_string(n_log2) +
             ", r=" + std::to_string(r) + ")";
    }
    rest.remove_prefix(4);
    size_t dollar = rest.find('$');
    if (dollar == std::string_view::npos || dollar == 0 || rest.size() - dollar - 1 != 43 ||
        !AllItoa64(rest.substr(0, dollar)) || !AllItoa64(rest.substr(dollar + 1))) {
      return "malformed yescrypt hash";
    }
  }
  // libxcrypt's own check of the setting (disabled methods, bad characters); it hashes nothing.
  std::string copy(hash);
  int check = crypt_checksalt(copy.c_str());
  if (check != CRYPT_SALT_OK && check != CRYPT_SALT_TOO_CHEAP) {
    return "malformed or unsupported crypt hash";
  }
  return "";
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
  if (IsCryptScheme(hash)) return CheckCryptHash(hash);
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
