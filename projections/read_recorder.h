// Records who read which patient's vaccinations (SPEC: reading a record is itself an event),
// without one signed event per read: the reads of one reader — the same caller person, role,
// physician acted for and entity — within a window (ReadRecorderOptions::window, default
// 100 ms) share one `patients.read` event in the reader's stream "reads:<person id>", with the
// reader as actor, the physician as on-behalf-of and the entity; its payload lists each read's
// patient and time (docs/domain.md). So the number of signed events follows the readers, not
// the reads.
//
// Record() only queues: a read never waits for the disk. The first read of a reader opens its
// window; the window is appended as one event when it has lasted `window`, at once when it
// holds `max_reads_per_event` reads, and at the latest when the recorder is destroyed. A crash
// loses the reads of the windows not yet appended (at most `window` of them per reader, plus
// what waits for the disk).
//
// A read whose record cannot be queued — too many reads waiting, or an append failed — is
// refused by the caller (Unavailable): no read goes unrecorded. After a failed append every
// later Record is refused until the recorder is made again (with the log, at a restart).
//
// Thread-safety: thread-safe. The log must outlive the recorder.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/registry_commands.h"
#include "eventstore/event_log.h"

namespace vaxledger::projections {

struct ReadRecorderOptions {
  // How long the reads of one reader gather into one event, from the reader's first read.
  // Default 100 ms.
  std::chrono::microseconds window = std::chrono::milliseconds(100);
  // Most reads in one event; a window that reaches it is appended at once (and the reader's
  // next read opens a new one). At about 60 bytes per read, 1000 reads make a leaf of about
  // 60 KB, well under the log's 1 MiB. Default 1000.
  size_t max_reads_per_event = 1000;
  // Reads queued and not yet handed to the log (all readers) before Record refuses. Default
  // 100000.
  size_t max_queued = 100000;
  // The clock that stamps each read and times the windows, UTC microseconds since 1970.
  // Default (empty): the system clock.
  std::function<int64_t()> clock_us;
  // Whether a thread of the recorder appends windows as they close or fill up. Default true.
  // When false, nothing is appended but by AppendDue, Flush and the destructor: for tests that
  // drive `clock_us` by hand.
  bool background = true;
};

class ReadRecorder {
 public:
  explicit ReadRecorder(eventstore::EventLog& log, ReadRecorderOptions options = {});
  // Appends every window still open, then stops.
  ~ReadRecorder();
  ReadRecorder(const ReadRecorder&) = delete;
  ReadRecorder& operator=(const ReadRecorder&) = delete;

  // Queues a record of `caller` (acting as `role`, for `physician`, in caller.entity) reading
  // `patient` now. Unavailable when `max_queued` reads are waiting or an append failed.
  Status Record(const Caller& caller, const std::string& role, const std::string& physician,
                const std::string& patient);

  // Appends, now and before returning, the windows that have lasted `window` by `clock_us`
  // (AppendDue) or every window (Flush), with those already full; when they return, every such
  // window is in the log, also one the background thread was appending. Returns the append
  // error that stopped the recorder, if any (later Records refuse). The background thread does
  // the former by itself; these are for tests and for callers that want the trail written at
  // a known point.
  Status AppendDue();
  Status Flush();

 private:
  struct Read {
    std::string patient;
    int64_t at_us = 0;
  };
  // The reads of one reader in one window.
  struct Window {
    std::string person, role, physician, entity;
    uint64_t id = 0;  // distinguishes a window from a later one of the same reader
    int64_t opened_us = 0;
    std::vector<Read> reads;
  };

  void Run();
  int64_t Now() const;
  // Moves the windows that are due at `now_us` (all of them when `all`) to closed_. Requires
  // mutex_.
  void CloseDue(int64_t now_us, bool all);
  // Appends closed_ (in batches of the log's limit) after any append in progress; requires
  // `lock` on mutex_, which it releases while the log appends. Returns the first error, or the
  // one that stopped the recorder earlier.
  Status AppendClosed(std::unique_lock<std::mutex>& lock);
  Result<eventstore::NewEvent> EventOf(const Window& w) const;

  eventstore::EventLog& log_;
  const ReadRecorderOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::map<std::string, Window> open_;  // by reader (person, role, physician, entity)
  // Open windows in the order they opened: (opened_us, id, reader); entries of windows closed
  // early (full) are skipped when they reach the front.
  struct Opening {
    int64_t opened_us;
    uint64_t id;
    std::string reader;
  };
  std::deque<Opening> opening_order_;
  std::deque<Window> closed_;  // full or due windows, waiting for the log
  size_t queued_reads_ = 0;    // reads in open_ and closed_
  uint64_t next_window_id_ = 0;
  Status failed_;
  bool stopping_ = false;
  // Serialises appends, so that a reader's events reach the log in the order of its windows.
  std::mutex append_mutex_;
  std::thread thread_;
};

}  // namespace vaxledger::projections
