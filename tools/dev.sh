#!/usr/bin/env bash
# The README's two commands, and CI's (.ci/run calls `tools/dev.sh test`).
#
#   tools/dev.sh demo   install what is missing, build (Release), create demo-data/ once, and
#                       serve it with demo people and data on http://127.0.0.1:8080 (LISTEN=...)
#   tools/dev.sh test   install what is missing, build (Release), run every test with CTest
#   tools/dev.sh deps   only install what is missing
#   tools/dev.sh bench-deps   install what the benchmarks' peers need (bench/http, bench/scale:
#                       wrk, nginx, PostgreSQL 15); not needed to build or test
#   tools/dev.sh fuzz TARGET [SECONDS]   build the fuzz harnesses (clang) and fuzz one of them
#                       (http_request, json_body, csv_batch, leaf, signed_note, checkpoint,
#                       ledger_export) for SECONDS (default 600); see README.md "Fuzzing"
#
# Works on a fresh Debian 12 machine as root (or with sudo). Every dependency is a Debian package.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  cmake g++ make pkg-config
  librocksdb-dev libflatbuffers-dev flatbuffers-compiler libsodium-dev
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev catch2
  libboost-dev libboost-system-dev curl
  libssl-dev zlib1g-dev libqrencode-dev
)
# Only for the browser and OpenAPI tests (tests/e2e/browser, tests/openapi): Debian's chromium,
# Node.js and npm.
BROWSER_PACKAGES=(chromium nodejs)
# Only for the fuzz harnesses (tests/fuzz, run by `test` too): Debian's clang with libFuzzer.
FUZZ_PACKAGES=(clang libclang-rt-14-dev llvm)
# Only for the benchmarks (bench/http/run.sh, bench/scale/run.sh): the peers they measure
# against in the same run, the load generator, and /usr/bin/time for peak memory.
BENCH_PACKAGES=(wrk nginx-light postgresql-15 curl time)
BUILD_DIR=${BUILD_DIR:-build}
FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}

deps() {
  install_packages "${PACKAGES[@]}"
}

browser_deps() {
  install_packages "${BROWSER_PACKAGES[@]}"
  # Debian's npm, unless Node.js came with its own (e.g. from NodeSource).
  command -v npm > /dev/null || install_packages npm
  (cd tests/e2e/browser && npm ci --no-audit --no-fund --loglevel=error)
  # swagger-parser, redocly and Ajv for the OpenAPI conformance test (tests/openapi).
  (cd tests/openapi && npm ci --no-audit --no-fund --loglevel=error)
}

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

# The second build: clang, libFuzzer, ASan and UBSan; only the fuzz targets and their libraries.
fuzz_build() {
  install_packages "${FUZZ_PACKAGES[@]}"
  CC=clang CXX=clang++ cmake -S . -B "$FUZZ_BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DVAXLEDGER_FUZZ=ON
  cmake --build "$FUZZ_BUILD_DIR" -j"$(nproc)" --target fuzzers
}

case "${1:-}" in
  deps)
    deps
    ;;
  bench-deps)
    install_packages "${BENCH_PACKAGES[@]}"
    ;;
  demo)
    deps
    build
    data=${DATA_DIR:-demo-data}
    if [ ! -d "$data/log" ]; then
      "$BUILD_DIR/tools/vaxledger" init --data "$data" --origin vaxledger.demo/registry --demo
    fi
    exec "$BUILD_DIR/tools/vaxledger" serve --data "$data" --listen "${LISTEN:-127.0.0.1:8080}" --demo
    ;;
  test)
    deps
    browser_deps
    build
    fuzz_build
    rc=0
    ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" || rc=$?
    # Each harness fuzzes for a few seconds; a crash fails its test and keeps the input.
    ctest --test-dir "$FUZZ_BUILD_DIR" --output-on-failure -j"$(nproc)" || rc=$?
    exit $rc
    ;;
  fuzz)
    target=${2:?usage: tools/dev.sh fuzz TARGET [SECONDS]}
    deps
    fuzz_build
    exec nice bash tests/fuzz/run_fuzzer.sh fuzz "$FUZZ_BUILD_DIR/tests/fuzz/${target}_fuzz" \
      "tests/fuzz/corpus/$target" "tests/fuzz/regressions/$target" \
      "$FUZZ_BUILD_DIR/tests/fuzz/$target" "${3:-600}"
    ;;
  *)
    echo "usage: tools/dev.sh demo|test|deps|bench-deps|fuzz TARGET [SECONDS]" >&2
    exit 2
    ;;
esac
