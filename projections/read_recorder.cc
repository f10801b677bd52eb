#include "projections/read_recorder.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/registry_state.h"
#include "projections/payload_codec.h"

namespace vaxledger::projections {
namespace {

// Events per Append: the log's default limit (EventLogOptions::max_batch_events).
constexpr size_t kMaxEventsPerAppend = 1000;

int64_t SystemNowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ReadRecorder::ReadRecorder(eventstore::EventLog& log, ReadRecorderOptions options)
    : log_(log), options_(std::move(options)) {
  if (options_.background) thread_ = std::thread([this] { Run(); });
}

ReadRecorder::~ReadRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::unique_lock lock(mutex_);
  CloseDue(Now(), /*all=*/true);
  // Nobody is left to tell: an append that fails here loses those reads (as a crash would).
  Status ignored = AppendClosed(lock);
  (void)ignored;
}

int64_t ReadRecorder::Now() const {
  return options_.clock_us ? options_.clock_us() : SystemNowUs();
}

Status ReadRecorder::Record(const Caller& caller, const std::string& role,
                            const std::string& physician, const std::string& patient) {
  const int64_t now = Now();
  const std::string acted_for = physician != caller.person ? physician : std::string();
  // The reader: what the event's envelope says, so that one event holds one reader's reads.
  std::string reader = caller.person;
  for (const std::string* part : {&role, &acted_for, &caller.entity}) {
    reader += '\0';
    reader += *part;
  }
  std::lock_guard lock(mutex_);
  if (!failed_.ok()) return Unavailable("reads cannot be recorded: " + failed_.message());
  if (queued_reads_ >= options_.max_queued) {
    return Unavailable("too many reads waiting to be recorded; try again");
  }
  auto [it, opened] = open_.try_emplace(reader);
  Window& w = it->second;
  if (opened) {
    w.person = caller.person;
    w.role = role;
    w.physician = acted_for;
    w.entity = caller.entity;
    w.id = next_window_id_++;
    w.opened_us = now;
    // The thread waits without a deadline only when no window is open.
    if (opening_order_.empty()) cv_.notify_all();
    opening_order_.push_back({now, w.id, std::move(reader)});
  }
  w.reads.push_back({patient, now});
  ++queued_reads_;
  if (w.reads.size() >= std::max<size_t>(options_.max_reads_per_event, 1)) {
    closed_.push_back(std::move(w));
    open_.erase(it);
    cv_.notify_all();
  }
  return Status::Ok();
}

Status ReadRecorder::AppendDue() {
  std::unique_lock lock(mutex_);
  CloseDue(Now(), /*all=*/false);
  return AppendClosed(lock);
}

Status ReadRecorder::Flush() {
  std::unique_lock lock(mutex_);
  CloseDue(Now(), /*all=*/true);
  return AppendClosed(lock);
}

void ReadRecorder::CloseDue(int64_t now_us, bool all) {
  const int64_t window = options_.window.count();
  while (!opening_order_.empty()) {
    const Opening& o = opening_order_.front();
    auto it = open_.find(o.reader);
    if (it == open_.end() || it->second.id != o.id) {  // closed early (full)
      opening_order_.pop_front();
      continue;
    }
    // A clock that went back makes the window due rather than longer.
    const bool due = now_us - o.opened_us >= window || now_us < o.opened_us;
    if (!all && !due) break;  // the later ones opened later
    closed_.push_back(std::move(it->second));
    open_.erase(it);
    opening_order_.pop_front();
  }
}

Status ReadRecorder::AppendClosed(std::unique_lock<std::mutex>& lock) {
  Status first;
  // One appender at a time (lock order: append_mutex_, then mutex_), so that windows reach the
  // log in the order they closed. Taking it also when closed_ is empty waits for the windows
  // another appender took: when this returns, every window closed before it was appended.
  lock.unlock();
  std::lock_guard appending(append_mutex_);
  lock.lock();
  while (!closed_.empty()) {
    std::vector<Window> windows;
    const size_t n = std::min(closed_.size(), kMaxEventsPerAppend);
    windows.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      queued_reads_ -= closed_.front().reads.size();
      windows.push_back(std::move(closed_.front()));
      closed_.pop_front();
    }
    lock.unlock();
    eventstore::AppendBatch batch;
    batch.events.reserve(windows.size());
    Status s;
    for (const Window& w : windows) {
      Result<eventstore::NewEvent> e = EventOf(w);
      if (!e.ok()) {
        s = e.status();
        break;
      }
      batch.events.push_back(std::move(e).value());
    }
    if (s.ok()) s = log_.Append(batch).status();
    lock.lock();
    if (!s.ok()) {
      if (failed_.ok()) failed_ = s;
      if (first.ok()) first = s;
    }
  }
  return first.ok() ? failed_ : first;
}

Result<eventstore::NewEvent> ReadRecorder::EventOf(const Window& w) const {
  eventstore::NewEvent e;
  e.event_id = eventstore::EventId::Random();
  e.stream = "reads:" + w.person;
  e.type = event_type::kPatientsRead;
  e.actor = {w.person, w.role};
  if (!w.physician.empty()) e.on_behalf_of = {w.physician, "physician"};
  e.entity = w.entity;
  nlohmann::json reads = nlohmann::json::array();
  for (const Read& r : w.reads) reads.push_back({{"patient", r.patient}, {"at_us", r.at_us}});
  VX_ASSIGN_OR_RETURN(e.payload,
                      EncodePayload(e.type, nlohmann::json{{"reads", std::move(reads)}}));
  return e;
}

void ReadRecorder::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const int64_t now = Now();
    CloseDue(now, /*all=*/false);
    if (!closed_.empty()) {
      // An error is kept in failed_ (later Records refuse); nothing more to do with it here.
      Status ignored = AppendClosed(lock);
      (void)ignored;
      continue;
    }
    auto woken = [&] { return stopping_ || !closed_.empty(); };
    if (opening_order_.empty()) {
      cv_.wait(lock, [&] { return woken() || !opening_order_.empty(); });
    } else {
      const int64_t wait_us =
          std::clamp<int64_t>(opening_order_.front().opened_us + options_.window.count() - now, 0,
                              options_.window.count());
      cv_.wait_for(lock, std::chrono::microseconds(wait_us), woken);
    }
  }
}

}  // namespace vaxledger::projections
