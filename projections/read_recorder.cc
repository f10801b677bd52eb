#include "projections/read_recorder.h"

#include <nlohmann/json.hpp>

#include "core/registry_state.h"
#include "projections/payload_codec.h"

namespace vaxledger::projections {

ReadRecorder::ReadRecorder(eventstore::EventLog& log, size_t max_queued)
    : log_(log), max_queued_(max_queued), thread_([this] { Run(); }) {}

ReadRecorder::~ReadRecorder() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    cv_.notify_all();
  }
  thread_.join();
}

Status ReadRecorder::Record(const Caller& caller, const std::string& role,
                            const std::string& physician, const std::string& patient) {
  eventstore::NewEvent e;
  e.event_id = eventstore::EventId::Random();
  e.stream = "reads:" + patient;
  e.type = event_type::kPatientRead;
  e.actor = {caller.person, role};
  if (!physician.empty() && physician != caller.person) e.on_behalf_of = {physician, "physician"};
  e.entity = caller.entity;
  VX_ASSIGN_OR_RETURN(e.payload, EncodePayload(e.type, nlohmann::json{{"patient", patient}}));
  std::lock_guard lock(mutex_);
  if (!failed_.ok()) return Unavailable("reads cannot be recorded: " + failed_.message());
  if (queue_.size() >= max_queued_) {
    return Unavailable("too many reads waiting to be recorded; try again");
  }
  queue_.push_back(std::move(e));
  cv_.notify_all();
  return Status::Ok();
}

void ReadRecorder::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty() && stopping_) return;
    eventstore::AppendBatch batch;
    const size_t n = std::min<size_t>(queue_.size(), 1000);  // the log's batch limit
    batch.events.assign(std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.begin() + n));
    queue_.erase(queue_.begin(), queue_.begin() + n);
    lock.unlock();
    Status s = log_.Append(batch).status();
    lock.lock();
    if (!s.ok()) failed_ = s;
  }
}

}  // namespace vaxledger::projections
