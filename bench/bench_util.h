// Small helpers shared by the benchmarks: timing, percentiles and the libsodium baselines.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "core/crypto.h"

namespace vaxledger::bench {

using Clock = std::chrono::steady_clock;

inline double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The p-th percentile (0..100) of `samples`, which it sorts.
inline double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  size_t i = static_cast<size_t>(p / 100.0 * (samples.size() - 1) + 0.5);
  return samples[std::min(i, samples.size() - 1)];
}

// Single-core rate of signing a 51-byte event message, per second, measured for ~`seconds`.
inline double SignRate(double seconds) {
  Ed25519Key key = Ed25519Key::Generate();
  Bytes msg(51, 0x5a);
  uint64_t n = 0;
  auto start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    for (int i = 0; i < 256; ++i) {
      Signature s = key.Sign(msg);
      msg[0] ^= s[0];
      ++n;
    }
  }
  return n / Seconds(Clock::now() - start);
}

// Single-core rate of verifying such signatures, per second.
inline double VerifyRate(double seconds) {
  Ed25519Key key = Ed25519Key::Generate();
  Bytes msg(51, 0x5a);
  Signature sig = key.Sign(msg);
  uint64_t n = 0, good = 0;
  auto start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    for (int i = 0; i < 256; ++i) {
      good += Ed25519Verify(key.public_key(), msg, sig);
      ++n;
    }
  }
  if (good != n) return 0;  // impossible unless libsodium is broken; shows as a zero baseline
  return n / Seconds(Clock::now() - start);
}

}  // namespace vaxledger::bench
