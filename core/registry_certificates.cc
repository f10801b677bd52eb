#include "core/registry_certificates.h"

#include <algorithm>

#include "core/certificate/dcc_payload.h"
#include "core/certificate/uvci.h"
#include "core/registry_commands.h"

namespace vaxledger {

namespace {

using nlohmann::json;

bool HasActiveRegistration(const Patient& p, const std::string& entity) {
  return std::any_of(p.vaccinations.begin(), p.vaccinations.end(), [&](const Vaccination& v) {
    return v.entity == entity && v.status == "active";
  });
}

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

DomainEvent PatientEvent(const Caller& caller, const Acting& acting, const Patient& p,
                         const char* type, json payload) {
  DomainEvent e;
  e.stream = PatientStream(p.id);
  e.type = type;
  e.actor = caller.person;
  e.actor_role = acting.role;
  if (acting.physician != caller.person) e.on_behalf_of = acting.physician;
  e.entity = caller.entity;
  e.payload = std::move(payload);
  return e;
}

Decision OneEvent(DomainEvent e, const Patient& p, std::string id) {
  Decision d;
  d.expectations.push_back({e.stream, p.version});
  d.events.push_back(std::move(e));
  d.id = std::move(id);
  return d;
}

Status CheckBase64(const std::string& text, size_t bytes, const char* field) {
  auto b = Base64Decode(text, field);
  if (!b.ok() || b->size() != bytes) {
    return InvalidArgument(
        std::string(field) + " must be base64 of " + std::to_string(bytes) + " bytes", field);
  }
  return Status::Ok();
}

}  // namespace

Status CheckCertificateAccess(const RegistryState& state, const Caller& caller,
                              const std::string& patient) {
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  (void)acting;
  const Patient* p = state.vaccinations.FindPatient(patient);
  if (p == nullptr || !HasActiveRegistration(*p, caller.entity)) {
    return NotFound("no patient record is found");
  }
  return Status::Ok();
}

Result<Decision> DecideIssueCertificate(const RegistryState& state, const Caller& caller,
                                        const IssueCertificate& c) {
  VX_RETURN_IF_ERROR(CheckCertificateAccess(state, caller, c.patient));
  VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(state.membership, caller));
  const Patient& p = *state.vaccinations.FindPatient(c.patient);
  if (p.erased) {
    return Status(Code::kFailedPrecondition,
                  "the patient's personal data is erased: no certificate can name them", "patient")
        .WithRule("certificate.patient_erased");
  }
  if (c.vaccination_id.empty()) return InvalidArgument("vaccination is required", "vaccination");
  VX_ASSIGN_OR_RETURN(const Vaccination* v, certificate::ChooseVaccination(p, c.vaccination_id));
  VX_RETURN_IF_ERROR(certificate::CheckUvci(c.uvci));
  if (state.vaccinations.CertificatePatient(c.uvci) != nullptr) {
    return Status(Code::kAlreadyExists, "the UVCI " + c.uvci + " was issued before", "uvci");
  }
  VX_RETURN_IF_ERROR(CheckBase64(c.kid, 8, "kid"));
  VX_RETURN_IF_ERROR(CheckBase64(c.signature_sha256, 32, "signature_sha256"));
  if (c.expires_at_us <= caller.now_us) {
    return InvalidArgument("expires_at must be after now", "expires_at");
  }
  if (c.dn < 1 || c.sd < 1) return InvalidArgument("dn and sd must be at least 1", "dn");
  DomainEvent e = PatientEvent(caller, acting, p, event_type::kCertificateIssued,
                               {{"uvci", c.uvci},
                                {"vaccination_id", v->id},
                                {"kid", c.kid},
                                {"signature_sha256", c.signature_sha256},
                                {"dn", c.dn},
                                {"sd", c.sd},
                                {"issued_at_us", caller.now_us},
                                {"expires_at_us", c.expires_at_us}});
  e.personal = {{"family_name", c.family_name}, {"given_name", c.given_name}, {"hc1", c.hc1}};
  e.data_subject = p.id;
  return OneEvent(std::move(e), p, c.uvci);
}

Result<Decision> DecideRevokeCertificate(const RegistryState& state, const Caller& caller,
                                         const RevokeCertificate& c) {
  const Person* person = state.membership.FindPerson(caller.person);
  const bool administrator = person != nullptr && person->roles.contains("administrator");
  const Patient* p = state.vaccinations.FindPatient(c.patient);
  const IssuedCertificate* cert = p ? p->FindCertificate(c.uvci) : nullptr;
  Acting acting;
  auto member = ActingIn(state.membership, caller);
  if (member.ok() && cert != nullptr && cert->entity == caller.entity) {
    acting = *member;
  } else if (administrator) {
    acting.role = "administrator";
    acting.physician = caller.person;
  } else {
    if (caller.person.empty()) return member.status();
    return NotFound("certificate " + c.uvci + " is not found");
  }
  if (cert == nullptr) return NotFound("certificate " + c.uvci + " is not found");
  if (cert->status == "revoked") {
    return FailedPrecondition("certificate " + c.uvci + " is already revoked", "uvci");
  }
  if (c.reason.empty() || c.reason.size() > 500) {
    return InvalidArgument("reason is required (at most 500 characters)", "reason");
  }
  Caller as = caller;
  DomainEvent e = PatientEvent(as, acting, *p, event_type::kCertificateRevoked,
                               {{"uvci", c.uvci}, {"reason", c.reason}});
  if (acting.role == "administrator") e.entity = cert->entity;
  return OneEvent(std::move(e), *p, c.uvci);
}

// ---- The view's part ----------------------------------------------------------------------

const IssuedCertificate* Patient::FindCertificate(const std::string& uvci) const {
  for (const IssuedCertificate& c : certificates) {
    if (c.uvci == uvci) return &c;
  }
  return nullptr;
}

const std::string* VaccinationsView::CertificatePatient(const std::string& uvci) const {
  auto it = certificate_patient_.find(uvci);
  if (it == certificate_patient_.end() && source_ != nullptr &&
      looked_up_.insert("c/" + uvci).second) {
    auto stored = source_->Get("c/" + uvci);
    if (!stored.ok()) {
      Fail(stored.status());
    } else if (*stored) {
      it = certificate_patient_.emplace(uvci, **stored).first;
    }
  }
  return it == certificate_patient_.end() ? nullptr : &it->second;
}

void VaccinationsView::ApplyCertificate(Patient& p, const DomainEvent& e) {
  const json& pl = e.payload;
  if (e.type == event_type::kCertificateIssued) {
    IssuedCertificate c;
    c.uvci = Str(pl, "uvci");
    c.vaccination_id = Str(pl, "vaccination_id");
    c.entity = e.entity;
    c.issued_by = e.actor;
    c.kid = Str(pl, "kid");
    c.signature_sha256 = Str(pl, "signature_sha256");
    c.dn = static_cast<int>(Int(pl, "dn"));
    c.sd = static_cast<int>(Int(pl, "sd"));
    c.issued_at_us = Int(pl, "issued_at_us");
    c.expires_at_us = Int(pl, "expires_at_us");
    c.position = e.position;
    if (e.personal.is_object()) {
      c.family_name = Str(e.personal, "family_name");
      c.given_name = Str(e.personal, "given_name");
      c.hc1 = Str(e.personal, "hc1");
    }
    certificate_patient_[c.uvci] = p.id;
    if (track_dirty_) dirty_.insert("c/" + c.uvci);
    p.certificates.push_back(std::move(c));
  } else if (e.type == event_type::kCertificateRevoked) {
    for (IssuedCertificate& c : p.certificates) {
      if (c.uvci != Str(pl, "uvci")) continue;
      c.status = "revoked";
      c.revoked_reason = Str(pl, "reason");
      c.revoked_by = e.actor;
      c.revoked_at_us = e.recorded_at_us;
      revoked_[c.position] = c.uvci;
      if (track_dirty_) dirty_.insert("k/" + PositionKey(c.position));
    }
  }
}

}  // namespace vaxledger
