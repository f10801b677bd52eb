// JSON forms of the views' records (core/registry_state.h), for people to read: `vaxledger
// projections dump` (RecordAsJson) and the JSON baseline of bench/view_records_bench. The stores
// hold FlatBuffers tables (core/view_records.h); nothing is stored in this form.
//
// Thread-safety: free functions.
#pragma once

#include <nlohmann/json.hpp>

#include "core/registry_state.h"

namespace vaxledger {

NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Member, person, role, name, riziv, trainer,
                                                linked_to, since_us, since_position, erased)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Entity, id, kind, name, kbo, region, version,
                                                members, pending)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Person, id, name, email, riziv, roles, entities,
                                                pending_access, version, has_stream, erased)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Request, id, kind, status, entity, person,
                                                requested_by, role, name, email, riziv,
                                                terms_version, new_entity, members, trainer,
                                                decided_by, reason, requested_at_us, decided_at_us,
                                                position)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(VaccinationChange, kind, product, lot, dose, date,
                                                consent, reason, by, at_us, position)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Vaccination, id, product, lot, dose, date, entity,
                                                performer, recorder, consent, consent_date,
                                                consent_by, status, reason, corrections,
                                                recorded_at_us, position, history)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(IssuedCertificate, uvci, vaccination_id, entity,
                                                issued_by, kid, signature_sha256, dn, sd,
                                                issued_at_us, expires_at_us, status, revoked_reason,
                                                revoked_by, revoked_at_us, position, family_name,
                                                given_name, hc1)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Patient, id, insz, name, birth_date, version,
                                                vaccinations, declared_care, certificates, erased)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StockLot, product, lot, expiry, received, adjusted,
                                                used)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(EntityStock, entity, version, has_stream, lots)

}  // namespace vaxledger
