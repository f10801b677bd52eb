#include "tools/erase_command.h"

#include <fmt/core.h>

#include "core/encoding.h"
#include "core/registry_commands.h"
#include "eventstore/event.h"
#include "http/sessions.h"
#include "projections/mail_outbox.h"
#include "projections/registry.h"
#include "tools/data_dir.h"

namespace vaxledger::tools {

namespace {

int Fail(const Status& s) {
  fmt::print(stderr, "vaxledger: {}\n", s.ToString());
  return 2;
}

}  // namespace

EraseCommand::EraseCommand(CLI::App& app) {
  erase_ = app.add_subcommand(
      "erase", "erase a patient's or a person's personal data (deletes their data key)");
  erase_->add_option("--data", dir_, "data directory")->required();
  auto* insz = erase_->add_option("--insz", insz_, "the patient's (or person's) INSZ");
  auto* name = erase_->add_option("--name", name_, "a patient without INSZ: the name");
  erase_->add_option("--birth-date", birth_date_, "a patient without INSZ: YYYY-MM-DD")
      ->needs(name);
  name->excludes(insz);
  erase_->add_flag("--person", person_, "the INSZ names a person (physician, staff), not a patient")
      ->needs(insz);
  erase_->add_option("--reason", reason_, "why (the legal ground); no personal data")->required();
}

std::optional<int> EraseCommand::Run() const {
  if (!erase_->parsed()) return std::nullopt;
  if (insz_.empty() && (name_.empty() || birth_date_.empty())) {
    return Fail(InvalidArgument("give --insz, or --name and --birth-date", "insz"));
  }
  auto log = OpenDataDir(dir_);
  if (!log.ok()) {
    if (log.status().code() == Code::kUnavailable) {
      fmt::print(stderr,
                 "vaxledger: the log is in use (a server is running?): ask for the erasure with "
                 "POST /v1/subjects/erasures as an administrator instead\n");
    }
    return Fail(log.status());
  }
  auto subjects = OpenSubjects(dir_);
  if (!subjects.ok()) return Fail(subjects.status());
  projections::RegistryOptions options;
  options.views_dir = ViewsPath(dir_);
  options.subjects = *subjects;
  auto registry = projections::Registry::Open(**log, options);
  if (!registry.ok()) return Fail(registry.status());
  auto outbox = projections::MailOutbox::Open(**log, **registry, dir_ + "/outbox");
  if (!outbox.ok()) return Fail(outbox.status());

  EraseSubject c;
  c.request_id = "era-" + eventstore::EventId::Random().ToString();
  c.kind = person_ ? "person" : "patient";
  if (person_) {
    c.insz = insz_;
  } else {
    c.patient = PatientRef{insz_, name_, birth_date_};
  }
  c.reason = reason_;
  Caller system;
  system.person = "system";
  auto out = (*registry)->Execute(system, c);
  if (!out.ok()) return Fail(out.status());
  const eventstore::Position position = out->positions.back();
  Status mailed = (*outbox)->WaitFor(position + 1, std::chrono::seconds(30));
  if (!mailed.ok()) return Fail(mailed);
  if (person_) {
    auto sessions = http::SessionStore::Open(SessionsPath(dir_), {}, 0);
    if (!sessions.ok()) return Fail(sessions.status());
    auto ended = (*sessions)->EndPerson(out->id);
    if (!ended.ok()) return Fail(ended.status());
  }
  fmt::print(
      "erased {} {} at position {}: its data key is deleted, the views hold none of its "
      "personal data\n",
      c.kind, out->id, position);
  return 0;
}

}  // namespace vaxledger::tools
