// Direct access to the RocksDB database of a log, as someone with write access to the data
// directory has: for tests that tamper with what is stored (docs/storage.md gives the layout).
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "eventstore/event.h"

namespace vaxledger::eventstore::testing {

class RawRocksDb {
 public:
  explicit RawRocksDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* n : kColumnFamilies) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), path, cfs, &handles_, &raw).ok());
    db_.reset(raw);
  }
  ~RawRocksDb() {
    for (auto* h : handles_) REQUIRE(db_->DestroyColumnFamilyHandle(h).ok());
  }

  // The `log` key of a position: u64be.
  static std::string PositionKey(Position p) {
    std::string k(8, '\0');
    for (int i = 0; i < 8; ++i) k[i] = static_cast<char>(p >> (56 - 8 * i));
    return k;
  }

  std::string Get(const std::string& cf, const std::string& key) {
    std::string v;
    REQUIRE(db_->Get(rocksdb::ReadOptions(), Handle(cf), key, &v).ok());
    return v;
  }
  void Put(const std::string& cf, const std::string& key, const std::string& value) {
    REQUIRE(db_->Put(rocksdb::WriteOptions(), Handle(cf), key, value).ok());
  }
  void Delete(const std::string& cf, const std::string& key) {
    REQUIRE(db_->Delete(rocksdb::WriteOptions(), Handle(cf), key).ok());
  }

 private:
  static constexpr const char* kColumnFamilies[] = {"default",   "log",  "streams",
                                                    "event_ids", "tree", "checkpoints"};
  rocksdb::ColumnFamilyHandle* Handle(const std::string& cf) {
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (cf == kColumnFamilies[i]) return handles_[i];
    }
    FAIL("no column family " << cf);
    return nullptr;
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

}  // namespace vaxledger::eventstore::testing
