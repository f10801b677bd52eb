// Fixed keys for the fuzz harnesses, so that a saved input reproduces: the keys of
// tests/vectors/signed_note.json and a harness key from a fixed seed.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/note_key.h"

namespace vaxledger::fuzz {

// The origin (and key name) of the harness's log and checkpoints.
inline constexpr const char* kFuzzOrigin = "vaxledger.fuzz/registry";

inline const NoteSigner& FuzzSigner() {
  static const NoteSigner signer = [] {
    Seed seed{};
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 7 + 1);
    return NoteSigner(kFuzzOrigin, Ed25519Key::FromSeed(seed));
  }();
  return signer;
}

// PeterNeumann's signing key from the C2SP vectors.
inline const NoteSigner& VectorSigner() {
  static const NoteSigner signer = [] {
    auto s = NoteSigner::Parse(
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz");
    if (!s.ok()) std::abort();
    return std::move(s).value();
  }();
  return signer;
}

// The vectors' verifier keys and the harness key.
inline const std::vector<NoteVerifierKey>& KnownKeys() {
  static const std::vector<NoteVerifierKey> keys = [] {
    std::vector<NoteVerifierKey> out;
    for (const char* text :
         {"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
          "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
          "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"}) {
      auto key = NoteVerifierKey::Parse(text);
      if (!key.ok()) std::abort();
      out.push_back(*key);
    }
    out.push_back(FuzzSigner().verifier());
    return out;
  }();
  return keys;
}

// Aborts with `what` (a property of the code under test does not hold).
[[noreturn]] inline void Violated(const std::string& what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what.c_str());
  std::abort();
}

}  // namespace vaxledger::fuzz
