// Ed25519 key pair for signing the audit log (DESIGN.md section 5).
//
// Files: `audit.key` holds the 64-byte libsodium secret key (seed followed by
// the public key) as 128 lowercase hex characters on one line, mode 0600;
// `audit.pub` holds the 32-byte public key as 64 hex characters on one line.
// Loading happens at start-up, so errors are exceptions naming the file.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sentinel {

constexpr size_t kEd25519SecretKeyBytes = 64;
constexpr size_t kEd25519PublicKeyBytes = 32;

/// An Ed25519 public key (what `sentinel audit verify` needs).
struct PublicKey {
  std::array<uint8_t, kEd25519PublicKeyBytes> bytes{};

  /// 64 lowercase hex characters.
  std::string hex() const;
  bool operator==(const PublicKey&) const = default;
};

/// An Ed25519 secret key. Move-only; the bytes are wiped when it dies so a
/// key does not linger in freed memory.
class SecretKey {
 public:
  explicit SecretKey(const std::array<uint8_t, kEd25519SecretKeyBytes>& bytes);
  ~SecretKey();
  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  const std::array<uint8_t, kEd25519SecretKeyBytes>& bytes() const { return bytes_; }
  /// The public half (libsodium keeps it in the last 32 bytes).
  PublicKey public_key() const;

 private:
  std::array<uint8_t, kEd25519SecretKeyBytes> bytes_{};
};

/// Where generate_keypair() wrote the two files.
struct KeyPairPaths {
  std::string secret_path;  ///< <dir>/audit.key
  std::string public_path;  ///< <dir>/audit.pub
};

/// Initialises libsodium once per process (thread-safe, idempotent). Throws
/// std::runtime_error if libsodium cannot initialise.
void ensure_sodium();

/// Makes a fresh key pair in `dir` (created if missing): `audit.key` (mode
/// 0600) and `audit.pub` (mode 0644). Never overwrites: throws
/// std::runtime_error naming the file when either exists or cannot be written.
KeyPairPaths generate_keypair(const std::string& dir);

/// Reads a secret key file. Throws std::runtime_error naming `path` when the
/// file is missing or unreadable, readable or writable by group or others,
/// not hex, not 64 bytes, or its public half does not match its seed.
SecretKey load_secret_key(const std::string& path);

/// Reads a public key file. Throws std::runtime_error naming `path` when the
/// file is missing or unreadable, not hex, or not 32 bytes.
PublicKey load_public_key(const std::string& path);

}  // namespace sentinel
