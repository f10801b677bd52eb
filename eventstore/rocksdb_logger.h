// RocksDB's info log, kept off the data disk.
//
// By default RocksDB writes its info log to DIR/LOG on the same disk as the data. On a full disk
// that write fails, and RocksDB asserts (aborts the process) at the next line it logs through the
// writer that failed. This logger writes nothing to disk: lines at ERROR and above go to stderr,
// and the last line about a damaged write-ahead log ("dropping N bytes", "Corruption") is kept,
// so that an open that failed can name the file.
//
// Thread-safety: thread-safe (RocksDB logs from many threads).
#pragma once

#include <memory>
#include <string>

namespace rocksdb {
class Logger;
}

namespace vaxledger::eventstore {

class RocksDbLogger;

// A new logger for one database; `name` prefixes its stderr lines.
std::shared_ptr<RocksDbLogger> NewRocksDbLogger(std::string name);

// The last line about WAL damage the logger saw, or "".
std::string LastCorruption(const RocksDbLogger& logger);

// The logger as RocksDB takes it (for DBOptions::info_log).
std::shared_ptr<rocksdb::Logger> AsRocksLogger(std::shared_ptr<RocksDbLogger> logger);

}  // namespace vaxledger::eventstore
