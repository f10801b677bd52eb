#include "eventstore/internal/worker_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <vector>

namespace vaxledger::eventstore::internal {
namespace {

TEST_CASE("ParallelFor runs every index exactly once, round after round") {
  WorkerPool pool(3);
  CHECK(pool.threads() == 3);
  for (size_t n : {0u, 1u, 2u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](size_t i) { hits[i]++; });
    for (size_t i = 0; i < n; ++i) REQUIRE(hits[i] == 1);
  }
}

}  // namespace
}  // namespace vaxledger::eventstore::internal
