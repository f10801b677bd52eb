#include "projections/mail_outbox.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "projections/payload_codec.h"

namespace vaxledger::projections {

namespace {

std::string PositionPath(const std::string& dir) { return dir + "/position"; }

// Writes `text` to `path` through a temporary file and a rename.
Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out << text;
    out.flush();
    if (!out) return Unavailable("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return Unavailable("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::string RfcDate(int64_t us) {
  std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

MailOutbox::MailOutbox(eventstore::EventLog& log, Registry& registry, std::string dir,
                       eventstore::Position from)
    : log_(log),
      registry_(registry),
      dir_(std::move(dir)),
      subscription_(log.Subscribe(from)),
      done_(from) {
  thread_ = std::thread([this] { Run(); });
}

Result<std::unique_ptr<MailOutbox>> MailOutbox::Open(eventstore::EventLog& log, Registry& registry,
                                                     std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPrecondition("cannot create the outbox " + dir + ": " + ec.message());
  eventstore::Position from = 0;
  std::ifstream in(PositionPath(dir));
  std::string text;
  if (in && std::getline(in, text)) {
    auto [p, err] = std::from_chars(text.data(), text.data() + text.size(), from);
    if (err != std::errc() || p != text.data() + text.size()) {
      return DataLoss(PositionPath(dir) + " does not hold a position");
    }
  }
  // Mails were sent for events the log no longer holds: refuse, as the views do.
  if (const eventstore::Position size = log.Size(); from > size) {
    return DataLoss("the outbox has looked at " + std::to_string(from) +
                    " events but the log holds only " + std::to_string(size) + ": positions " +
                    std::to_string(size) + ".." + std::to_string(from - 1) +
                    " are missing from the log (" + PositionPath(dir) + ")");
  }
  return std::unique_ptr<MailOutbox>(new MailOutbox(log, registry, std::move(dir), from));
}

MailOutbox::~MailOutbox() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  subscription_->Cancel();
  thread_.join();
}

Status MailOutbox::WaitFor(eventstore::Position position, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  const bool done = cv_.wait_for(lock, timeout, [&] { return done_ >= position || !failed_.ok(); });
  if (!failed_.ok()) return Unavailable("the outbox stopped: " + failed_.message());
  if (!done) return Unavailable("the outbox did not catch up in time");
  return Status::Ok();
}

Status MailOutbox::Write(const eventstore::RecordedEvent& e) {
  if (e.event.type == event_type::kSubjectErased) return Forget(e);
  const bool approved = e.event.type == event_type::kAccessApproved;
  if (!approved && e.event.type != event_type::kAccessRejected) return Status::Ok();
  VX_ASSIGN_OR_RETURN(nlohmann::json payload,
                      DecodePayload(e.event.type, AsBytes(e.event.payload)));
  const std::string id = payload.value("request_id", "");
  // Read once the views include this event.
  VX_ASSIGN_OR_RETURN(auto request, registry_.Read(
                                        [&](const RegistryState& s) {
                                          const Request* r = s.requests.Find(id);
                                          return r ? std::optional<Request>(*r) : std::nullopt;
                                        },
                                        e.position + 1));
  if (!request || request->email.empty()) return Status::Ok();  // nobody to tell
  // The registry serves the whole of Belgium: every mail is in Dutch and in French (and a line
  // of English). The subject is UTF-8, so it is an RFC 2047 encoded word.
  std::string entity = request->entity;  // named by its name where the registry knows it
  if (request->new_entity.is_object()) {
    entity = request->new_entity.value("name", entity);
  } else {
    VX_ASSIGN_OR_RETURN(entity, registry_.Read(
                                    [&](const RegistryState& s) {
                                      const Entity* found =
                                          s.membership.FindEntity(request->entity);
                                      return found ? found->name : request->entity;
                                    },
                                    e.position + 1));
  }
  const std::string subject =
      approved ? "Uw toegang tot het register is goedgekeurd / Votre accès au registre est approuvé"
               : "Uw aanvraag voor toegang werd geweigerd / Votre demande d'accès a été refusée";
  std::string mail =
      "To: " + request->name + " <" + request->email + ">\r\n" +
      "From: vaxledger <noreply@vaxledger.invalid>\r\n" + "Date: " + RfcDate(e.recorded_at_us) +
      "\r\n" + "Subject: =?utf-8?B?" +
      Base64Encode(ByteView(reinterpret_cast<const uint8_t*>(subject.data()), subject.size())) +
      "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Language: nl, fr, en\r\n\r\n";
  if (approved) {
    mail += "Beste " + request->name + ",\r\n\r\nUw aanvraag " + id +
            " werd goedgekeurd. U kunt nu inloggen voor " + entity + ".\r\n\r\n" + "Bonjour " +
            request->name + ",\r\n\r\nVotre demande " + id +
            " a été approuvée. Vous pouvez maintenant vous connecter pour " + entity +
            ".\r\n\r\n(Your access request was approved; you can now log in.)\r\n";
  } else {
    mail += "Beste " + request->name + ",\r\n\r\nUw aanvraag " + id +
            " werd geweigerd. Reden: " + request->reason + "\r\n\r\n" + "Bonjour " + request->name +
            ",\r\n\r\nVotre demande " + id + " a été refusée. Motif : " + request->reason +
            "\r\n\r\n(Your access request was rejected. Reason: " + request->reason + ")\r\n";
  }
  return WriteAtomically(dir_ + "/" + std::to_string(e.position) + "-" + id + ".eml", mail);
}

Status MailOutbox::Forget(const eventstore::RecordedEvent& e) {
  VX_ASSIGN_OR_RETURN(nlohmann::json payload,
                      DecodePayload(e.event.type, AsBytes(e.event.payload)));
  if (payload.value("kind", "") != "person") return Status::Ok();
  const std::string person = payload.value("subject", "");
  VX_ASSIGN_OR_RETURN(auto ids, registry_.Read(
                                    [&](const RegistryState& s) {
                                      std::set<std::string> out;
                                      s.requests.ForEachOf(person, [&](const Request& r) {
                                        if (r.kind == "access" && r.person == person) {
                                          out.insert(r.id);
                                        }
                                        return true;
                                      });
                                      return out;
                                    },
                                    e.position + 1));
  // Issue 16: the mails to the person (their name and address) leave the outbox.
  std::error_code ec;
  std::vector<std::filesystem::path> doomed;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t dash = name.find('-');
    if (dash == std::string::npos || !name.ends_with(".eml")) continue;
    if (ids.contains(name.substr(dash + 1, name.size() - dash - 5))) doomed.push_back(entry.path());
  }
  if (ec) return Unavailable("cannot list the outbox " + dir_ + ": " + ec.message());
  for (const auto& path : doomed) {
    if (!std::filesystem::remove(path, ec) && ec) {
      return Unavailable("cannot remove " + path.string() + ": " + ec.message());
    }
  }
  return Status::Ok();
}

void MailOutbox::Run() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto events = subscription_->Next(256, std::chrono::milliseconds(500));
    Status s = events.status();
    if (s.ok()) {
      for (const auto& e : *events) {
        s = Write(e);
        if (!s.ok()) break;
      }
    }
    if (s.ok() && !events->empty()) {
      s = WriteAtomically(PositionPath(dir_), std::to_string(events->back().position + 1) + "\n");
    }
    std::lock_guard lock(mutex_);
    if (!s.ok()) {
      failed_ = s;
      cv_.notify_all();
      return;
    }
    if (!events->empty()) done_ = events->back().position + 1;
    cv_.notify_all();
  }
}

}  // namespace vaxledger::projections
