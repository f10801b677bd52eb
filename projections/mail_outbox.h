// The mail outbox (SPEC §2 flow 1: the requester is told by e-mail when an administrator decides
// their access request). In this registry the outbox is a directory: each mail is a file
//
//   OUTBOX/<position>-<request id>.eml     an RFC 5322 message (To, Subject, Date, text body)
//
// written atomically (temporary file, then rename), named by the decision's log position so that
// writing it again after a crash replaces it with the same mail. A mail relay (or, in
// development, a person) takes the files from there. OUTBOX/position holds the next log position
// to look at; the outbox resumes from it.
//
// When a person's personal data is erased (`subject.erased`), the mails of their access
// requests are removed from the outbox (a relay may have taken them already).
//
// Thread-safety: a thread of its own follows the log; the public methods are thread-safe. The
// log and the registry must outlive the outbox.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "eventstore/event_log.h"
#include "projections/registry.h"

namespace vaxledger::projections {

class MailOutbox {
 public:
  // Creates `dir` when missing and starts following the log from OUTBOX/position (or 0).
  // DataLoss when DIR/position is beyond the log's size (the log lost events it had published).
  static Result<std::unique_ptr<MailOutbox>> Open(eventstore::EventLog& log, Registry& registry,
                                                  std::string dir);
  ~MailOutbox();
  MailOutbox(const MailOutbox&) = delete;
  MailOutbox& operator=(const MailOutbox&) = delete;

  // Waits until every event below `position` has been looked at (and its mail written).
  // Unavailable on time-out or after a failure (e.g. the directory is not writable).
  Status WaitFor(eventstore::Position position, std::chrono::milliseconds timeout);

 private:
  MailOutbox(eventstore::EventLog& log, Registry& registry, std::string dir,
             eventstore::Position from);
  void Run();
  Status Write(const eventstore::RecordedEvent& event);
  // subject.erased of a person: removes the mails to them (issue 16).
  Status Forget(const eventstore::RecordedEvent& event);

  eventstore::EventLog& log_;
  Registry& registry_;
  const std::string dir_;
  std::unique_ptr<eventstore::Subscription> subscription_;
  std::mutex mutex_;
  std::condition_variable cv_;
  eventstore::Position done_ = 0;  // guarded by mutex_
  Status failed_;                  // guarded by mutex_
  bool stopping_ = false;          // guarded by mutex_
  std::thread thread_;
};

}  // namespace vaxledger::projections
