// Records who read which patient's vaccinations (SPEC: reading a record is itself an event):
// `patient.read` events in stream "reads:<patient id>", with the reader as actor, the physician
// acted for, and the entity. Record() only queues; a background thread appends what is queued in
// one batch, so a read does not wait for the disk.
//
// A read whose record cannot be queued (the queue is full, or appending failed) is refused by
// the caller (Unavailable): no read goes unrecorded.
//
// Thread-safety: thread-safe. The log must outlive the recorder.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/registry_commands.h"
#include "eventstore/event_log.h"

namespace vaxledger::projections {

class ReadRecorder {
 public:
  // `max_queued`: reads waiting to be appended before Record refuses. Default 100000.
  explicit ReadRecorder(eventstore::EventLog& log, size_t max_queued = 100000);
  // Appends what is queued, then stops.
  ~ReadRecorder();
  ReadRecorder(const ReadRecorder&) = delete;
  ReadRecorder& operator=(const ReadRecorder&) = delete;

  // Queues a record of `caller` (acting as `role`, for `physician`) reading `patient`.
  // Unavailable when the queue is full or the last append failed.
  Status Record(const Caller& caller, const std::string& role, const std::string& physician,
                const std::string& patient);

 private:
  void Run();
  eventstore::EventLog& log_;
  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<eventstore::NewEvent> queue_;
  Status failed_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vaxledger::projections
