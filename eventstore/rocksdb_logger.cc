#include "eventstore/rocksdb_logger.h"

#include <rocksdb/env.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace vaxledger::eventstore {

class RocksDbLogger : public rocksdb::Logger {
 public:
  explicit RocksDbLogger(std::string name)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL), name_(std::move(name)) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Line(rocksdb::InfoLogLevel::WARN_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    Line(level, format, ap);
  }

  std::string last_corruption() const {
    std::lock_guard lock(mu_);
    return last_corruption_;
  }

 private:
  void Line(rocksdb::InfoLogLevel level, const char* format, va_list ap) {
    char buf[2048];
    std::vsnprintf(buf, sizeof buf, format, ap);
    const std::string line(buf);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL) {
      std::fprintf(stderr, "rocksdb %s: %s\n", name_.c_str(), buf);
    }
    if (line.find("dropping") != std::string::npos ||
        line.find("Corruption") != std::string::npos) {
      std::lock_guard lock(mu_);
      // A line naming the write-ahead log file wins over a later summary.
      if (last_corruption_.find("dropping") == std::string::npos ||
          line.find("dropping") != std::string::npos) {
        last_corruption_ = line;
      }
    }
  }

  const std::string name_;
  mutable std::mutex mu_;
  std::string last_corruption_;
};

std::shared_ptr<RocksDbLogger> NewRocksDbLogger(std::string name) {
  return std::make_shared<RocksDbLogger>(std::move(name));
}

std::string LastCorruption(const RocksDbLogger& logger) { return logger.last_corruption(); }

std::shared_ptr<rocksdb::Logger> AsRocksLogger(std::shared_ptr<RocksDbLogger> logger) {
  return logger;
}

}  // namespace vaxledger::eventstore
