// A data directory's key store (eventstore::KeyStore, DIR/keys/) built on a RAM file system and
// installed in its place at the end: for the generators (bench/scale, bench/rebuild_bench) that
// make hundreds of thousands of subjects.
//
// The key store writes every new subject with its own synced RocksDB batch (one fsync each,
// 2-3 ms on this machine's disk: 4M patients would take hours). Here the real KeyStore does
// every write, unchanged, in a directory under /dev/shm (tmpfs, where fsync costs nothing);
// Install() then copies the closed store's files to DIR/keys, syncs every file and directory,
// and only then removes the stage. What ends in DIR/keys is byte for byte what KeyStore wrote,
// so `vaxledger serve` opens it as any other. A crash during generation loses the directory
// being generated, nothing else (as with the unsynced log of bench/scale).
//
// The stage is /dev/shm/vaxledger-keys-stage-PID, removed by Install and by the destructor; a
// process that exits without either (std::exit on an error) leaves it behind.
//
// With stage root "-", or when the stage root is not a writable directory (a line on stderr says
// so), the store is opened in place and every new subject pays its fsync.
//
// Thread-safety: store() is as thread-safe as KeyStore; Open and Install are not.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "core/status.h"
#include "eventstore/key_store.h"

namespace vaxledger::bench {

class StagedKeyStore {
 public:
  // Opens the key store that will live at `dir`: a copy of the store already there (closed:
  // `vaxledger init` leaves one with the first administrator), or a new one, in a fresh
  // directory under `stage_root` ("-": opens `dir` itself, nothing staged).
  static Result<std::unique_ptr<StagedKeyStore>> Open(const std::string& dir,
                                                      const PseudonymKey& pseudonym_key,
                                                      const std::string& stage_root = "/dev/shm") {
    auto staged = std::unique_ptr<StagedKeyStore>(new StagedKeyStore(dir));
    if (stage_root != "-" && ::access(stage_root.c_str(), W_OK | X_OK) == 0) {
      staged->stage_ = stage_root + "/vaxledger-keys-stage-" + std::to_string(::getpid());
      std::error_code ec;
      std::filesystem::remove_all(staged->stage_, ec);
      if (std::filesystem::exists(dir)) {
        std::filesystem::copy(dir, staged->stage_, std::filesystem::copy_options::recursive, ec);
        if (ec) return Unavailable("copy " + dir + " to " + staged->stage_ + ": " + ec.message());
        ::chmod(staged->stage_.c_str(), 0700);
      }
    } else if (stage_root != "-") {
      std::fprintf(stderr,
                   "staged key store: %s is not writable: the key store is written in place, "
                   "one fsync per new subject\n",
                   stage_root.c_str());
    }
    VX_ASSIGN_OR_RETURN(auto store, eventstore::KeyStore::Open(
                                        staged->staged() ? staged->stage_ : dir, pseudonym_key));
    staged->store_ = std::move(store);
    return staged;
  }

  ~StagedKeyStore() {
    store_.reset();
    if (staged()) {
      std::error_code ec;
      std::filesystem::remove_all(stage_, ec);
    }
  }
  StagedKeyStore(const StagedKeyStore&) = delete;
  StagedKeyStore& operator=(const StagedKeyStore&) = delete;

  // The store, for generation. Every holder must let go of it before Install().
  std::shared_ptr<eventstore::KeyStore> store() const { return store_; }

  // Closes the store and puts it at `dir`: copies the stage to `dir`.installing, syncs every
  // file and directory, replaces `dir` with it, syncs the parent and removes the stage.
  // FailedPrecondition when someone still holds store().
  Status Install() {
    if (!store_) return FailedPrecondition("staged key store: already installed");
    if (store_.use_count() != 1) {
      return FailedPrecondition("staged key store: the store is still in use");
    }
    store_.reset();  // closes RocksDB: flushed, no lock held
    if (!staged()) return Status::Ok();
    const std::string installing = dir_ + ".installing";
    std::error_code ec;
    std::filesystem::remove_all(installing, ec);
    std::filesystem::copy(stage_, installing, std::filesystem::copy_options::recursive, ec);
    if (ec) return Unavailable("copy " + stage_ + " to " + installing + ": " + ec.message());
    if (::chmod(installing.c_str(), 0700) != 0) return Errno("chmod", installing);
    for (const auto& entry : std::filesystem::directory_iterator(installing, ec)) {
      if (entry.is_regular_file()) VX_RETURN_IF_ERROR(Sync(entry.path().string(), O_RDONLY));
    }
    if (ec) return Unavailable("list " + installing + ": " + ec.message());
    VX_RETURN_IF_ERROR(Sync(installing, O_RDONLY | O_DIRECTORY));
    std::filesystem::remove_all(dir_, ec);
    if (ec) return Unavailable("remove " + dir_ + ": " + ec.message());
    if (::rename(installing.c_str(), dir_.c_str()) != 0) return Errno("rename", installing);
    const std::string parent = std::filesystem::path(dir_).parent_path().string();
    VX_RETURN_IF_ERROR(Sync(parent.empty() ? "." : parent, O_RDONLY | O_DIRECTORY));
    std::filesystem::remove_all(stage_, ec);
    return Status::Ok();
  }

 private:
  explicit StagedKeyStore(std::string dir) : dir_(std::move(dir)) {}
  bool staged() const { return !stage_.empty(); }

  static Status Errno(const char* what, const std::string& path) {
    return Unavailable(std::string(what) + " " + path + ": " + std::strerror(errno));
  }
  static Status Sync(const std::string& path, int flags) {
    const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
    if (fd < 0) return Errno("open", path);
    const int rc = ::fsync(fd);
    ::close(fd);
    return rc == 0 ? Status::Ok() : Errno("fsync", path);
  }

  std::string dir_;
  std::string stage_;  // empty: in place
  std::shared_ptr<eventstore::KeyStore> store_;
};

}  // namespace vaxledger::bench
