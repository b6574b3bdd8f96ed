#include "core/keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>

namespace sentinel {

static_assert(kEd25519SecretKeyBytes == crypto_sign_ed25519_SECRETKEYBYTES);
static_assert(kEd25519PublicKeyBytes == crypto_sign_ed25519_PUBLICKEYBYTES);

namespace {

// A key file is one line; anything much larger is not a key file and is not
// worth reading whole.
constexpr size_t kMaxKeyFileBytes = 4096;

std::string to_hex(const uint8_t* bytes, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes, n);
  out.pop_back();
  return out;
}

[[noreturn]] void fail(const std::string& path, const std::string& reason) {
  throw std::runtime_error(path + ": " + reason);
}

// Reads the file through one descriptor so the permission check and the read
// see the same file. `secret` adds the group/other permission check.
std::string read_key_file(const std::string& path, bool secret) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open key file: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, std::string("cannot stat key file: ") + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "key file is not a regular file");
  }
  if (secret && (st.st_mode & 077) != 0) {
    ::close(fd);
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    fail(path, std::string("secret key file is accessible by group or others (mode ") + mode +
                   "); run chmod 600 on it");
  }
  std::string text;
  char buf[512];
  while (text.size() <= kMaxKeyFileBytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      fail(path, std::string("cannot read key file: ") + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (text.size() > kMaxKeyFileBytes) fail(path, "wrong length: key file is larger than 4 KiB");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

// Decodes exactly `n` bytes of hex from `text` or throws naming `path`.
template <size_t N>
std::array<uint8_t, N> decode_key(const std::string& path, std::string& text, const char* what) {
  std::array<uint8_t, N> out{};
  if (text.size() != 2 * N) {
    sodium_memzero(text.data(), text.size());
    fail(path, "wrong length: expected " + std::to_string(2 * N) + " hex characters (" +
                   std::to_string(N) + "-byte Ed25519 " + what + " key), found " +
                   std::to_string(text.size()));
  }
  size_t got = 0;
  const int rc =
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &got, nullptr);
  sodium_memzero(text.data(), text.size());
  if (rc != 0 || got != N) {
    sodium_memzero(out.data(), out.size());
    fail(path, "bad encoding: expected hexadecimal digits only");
  }
  return out;
}

// Creates `path` exclusively with `mode` and writes `line`; removes it again
// when the write fails so no half-written key remains.
void write_new_file(const std::string& path, const std::string& line, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) fail(path, "already exists; refusing to overwrite a key");
    fail(path, std::string("cannot create: ") + std::strerror(errno));
  }
  // The umask may only have removed bits; fchmod makes the mode exact.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t off = 0;
  while (ok && off < line.size()) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    off += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    fail(path, std::string("cannot write key: ") + std::strerror(err));
  }
}

}  // namespace

void ensure_sodium() {
  // sodium_init is itself idempotent and thread-safe; the static just makes
  // the check once.
  static const int rc = sodium_init();
  if (rc < 0) throw std::runtime_error("libsodium: sodium_init failed");
}

std::string PublicKey::hex() const {
  return to_hex(bytes.data(), bytes.size());
}

SecretKey::SecretKey(const std::array<uint8_t, kEd25519SecretKeyBytes>& bytes) : bytes_(bytes) {}

SecretKey::~SecretKey() {
  sodium_memzero(bytes_.data(), bytes_.size());
}

SecretKey::SecretKey(SecretKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

PublicKey SecretKey::public_key() const {
  PublicKey pk;
  crypto_sign_ed25519_sk_to_pk(pk.bytes.data(), bytes_.data());
  return pk;
}

KeyPairPaths generate_keypair(const std::string& dir) {
  ensure_sodium();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir, "cannot create key directory: " + ec.message());
  KeyPairPaths paths{(std::filesystem::path(dir) / "audit.key").string(),
                     (std::filesystem::path(dir) / "audit.pub").string()};
  // Check both before writing either, so a half pair is never left behind by
  // a clash on the second file.
  for (const std::string& p : {paths.secret_path, paths.public_path}) {
    if (std::filesystem::exists(p, ec)) fail(p, "already exists; refusing to overwrite a key");
  }
  std::array<uint8_t, kEd25519SecretKeyBytes> sk{};
  std::array<uint8_t, kEd25519PublicKeyBytes> pk{};
  crypto_sign_ed25519_keypair(pk.data(), sk.data());
  std::string secret_line = to_hex(sk.data(), sk.size()) + "\n";
  sodium_memzero(sk.data(), sk.size());
  try {
    write_new_file(paths.secret_path, secret_line, 0600);
  } catch (...) {
    sodium_memzero(secret_line.data(), secret_line.size());
    throw;
  }
  sodium_memzero(secret_line.data(), secret_line.size());
  try {
    write_new_file(paths.public_path, to_hex(pk.data(), pk.size()) + "\n", 0644);
  } catch (...) {
    ::unlink(paths.secret_path.c_str());
    throw;
  }
  return paths;
}

SecretKey load_secret_key(const std::string& path) {
  ensure_sodium();
  std::string text = read_key_file(path, /*secret=*/true);
  SecretKey key(decode_key<kEd25519SecretKeyBytes>(path, text, "secret"));
  // A libsodium secret key is seed || public key; a key whose halves disagree
  // would sign with one key and name another.
  std::array<uint8_t, kEd25519PublicKeyBytes> pk{};
  std::array<uint8_t, kEd25519SecretKeyBytes> sk{};
  crypto_sign_ed25519_seed_keypair(pk.data(), sk.data(), key.bytes().data());
  const bool same = sodium_memcmp(sk.data(), key.bytes().data(), sk.size()) == 0;
  sodium_memzero(sk.data(), sk.size());
  if (!same) fail(path, "corrupt secret key: its public half does not match its seed");
  return key;
}

PublicKey load_public_key(const std::string& path) {
  ensure_sodium();
  std::string text = read_key_file(path, /*secret=*/false);
  PublicKey pk;
  pk.bytes = decode_key<kEd25519PublicKeyBytes>(path, text, "public");
  return pk;
}

}  // namespace sentinel
