#include "http/certificate_routes.h"

#include "http/route_doc.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/certificate/dcc_payload.h"
#include "core/certificate/hcert.h"
#include "core/certificate/qr_image.h"
#include "core/certificate/uvci.h"
#include "core/identifiers.h"
#include "core/registry_commands.h"
#include "core/vaccines.h"
#include "http/json_body.h"
#include "http/registry_routes.h"

namespace vaxledger::http {

namespace {

using certificate::Utc;
using nlohmann::json;
using projections::Registry;

int64_t SystemClockUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Response Json(int status, const json& body) {
  Response r;
  r.status = status;
  r.body = JsonText(body);
  return r;
}

// Percent-encodes what a path segment may not hold as it is ("#", "%", "/", "?", space).
std::string Segment(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '#' || c == '%' || c == '/' || c == '?' || c == ' ') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// A date of birth as the DCC takes it: YYYY-MM-DD, YYYY-MM, YYYY or empty.
Status CheckDob(const std::string& dob) {
  if (dob.empty()) return Status::Ok();
  if (dob.size() == 10) return CheckDate(dob, "date_of_birth");
  const bool ok = (dob.size() == 4 || (dob.size() == 7 && dob[4] == '-')) &&
                  std::all_of(dob.begin(), dob.end(), [](char c) {
                    return c == '-' || std::isdigit(static_cast<unsigned char>(c));
                  });
  if (!ok || dob < "1900") {
    return InvalidArgument("date_of_birth must be YYYY-MM-DD, YYYY-MM or YYYY (from 1900)",
                           "date_of_birth");
  }
  return Status::Ok();
}

json CertificateJson(const std::string& patient, const IssuedCertificate& c) {
  const std::string base = "/v1/patients/" + patient + "/certificates/" + Segment(c.uvci);
  return {{"uvci", c.uvci},
          {"vaccination", c.vaccination_id},
          {"entity", c.entity},
          {"issued_by", c.issued_by},
          {"kid", c.kid},
          {"signature_sha256", c.signature_sha256},
          {"dn", c.dn},
          {"sd", c.sd},
          {"issued_at", Utc(c.issued_at_us / 1000000)},
          {"expires_at", Utc(c.expires_at_us / 1000000)},
          {"status", c.status},
          {"revoked_reason", c.revoked_reason},
          {"family_name", c.family_name},
          {"given_name", c.given_name},
          {"hc1", c.hc1},
          {"position", c.position},
          {"links",
           {{"self", base},
            {"qr_png", base + "/qr.png"},
            {"qr_svg", base + "/qr.svg"},
            {"print", base + "/print"}}}};
}

// The printable page's words, by language.
struct Words {
  const char* title;
  const char* name;
  const char* born;
  const char* vaccine;
  const char* dose;
  const char* date;
  const char* issuer;
  const char* expires;
  const char* revoked;
  const char* print;
};

const Words& WordsFor(const std::string& lang) {
  static const Words nl{"Vaccinatiebewijs", "Naam",       "Geboortedatum",
                        "Vaccin",           "Dosis",      "Datum van vaccinatie",
                        "Uitgegeven door",  "Geldig tot", "INGETROKKEN",
                        "Afdrukken"};
  static const Words fr{
      "Certificat de vaccination", "Nom",         "Date de naissance", "Vaccin",  "Dose",
      "Date de vaccination",       "Délivré par", "Valable jusqu'au",  "RÉVOQUÉ", "Imprimer"};
  static const Words en{
      "Vaccination certificate", "Name",      "Date of birth", "Vaccine", "Dose",
      "Date of vaccination",     "Issued by", "Valid until",   "REVOKED", "Print"};
  if (lang == "fr") return fr;
  if (lang == "en") return en;
  return nl;
}

class Routes : public std::enable_shared_from_this<Routes> {
 public:
  Routes(Registry& registry, SessionStore& sessions, projections::ReadRecorder& reads,
         CertificateRoutesOptions options)
      : registry_(registry), sessions_(sessions), reads_(reads), options_(std::move(options)) {
    if (!options_.clock_us) options_.clock_us = SystemClockUs;
    if (options_.published.empty() && options_.signer) {
      options_.published.push_back(options_.signer->certificate());
    }
  }

  // The JSON answers' schemas (every property the handlers write; no others).
  static json Object(json properties, bool closed = true) {
    json required = json::array();
    for (const auto& [name, schema] : properties.items()) required.push_back(name);
    return {{"type", "object"},
            {"properties", std::move(properties)},
            {"required", required},
            {"additionalProperties", !closed}};
  }
  static json Certificate(bool with_dcc) {
    const json str = {{"type", "string"}}, integer = {{"type", "integer"}};
    json p = {{"uvci", str},
              {"vaccination", str},
              {"entity", str},
              {"issued_by", str},
              {"kid", str},
              {"signature_sha256", str},
              {"dn", integer},
              {"sd", integer},
              {"issued_at", str},
              {"expires_at", str},
              {"status", str},
              {"revoked_reason", str},
              {"family_name", str},
              {"given_name", str},
              {"hc1", str},
              {"position", integer},
              {"links", Object({{"self", str}, {"qr_png", str}, {"qr_svg", str}, {"print", str}})}};
    if (with_dcc)
      p["dcc"] = {{"type", "object"},
                  {"description", "the DCC 1.3 payload"},
                  {"properties", {{"ver", str}}}};
    return Object(std::move(p));
  }
  static ContentDoc JsonContent(json schema) { return {"application/json", std::move(schema)}; }
  static ContentDoc JsonContent() {
    return {"application/json", {{"type", "object"}, {"properties", json::object()}}};
  }
  static RouteDoc Doc(std::string summary, ResponseDoc answer, std::vector<int> problems,
                      bool json_body = false) {
    RouteDoc d;
    d.summary = std::move(summary);
    d.tag = "certificates";
    d.responses = {std::move(answer)};
    d.problems = std::move(problems);
    if (json_body) d.body = {JsonContent()};
    return d;
  }

  void Add(Router& router) {
    auto bind = [self = shared_from_this()](Result<Response> (Routes::*f)(const Request&)) {
      return [self, f](const Request& r) {
        Result<Response> out = ((*self).*f)(r);
        return out.ok() ? std::move(out).value() : ProblemResponse(out.status());
      };
    };
    const std::string one = "/v1/patients/{patient}/certificates/{uvci}";
    router.Add("POST", "/v1/patients/{patient}/certificates", bind(&Routes::Issue),
               Doc("Issue an EU Digital COVID Certificate for a dose (docs/certificates.md)",
                   {201,
                    "The certificate: uvci, hc1, expires_at, links",
                    {JsonContent(Certificate(true))},
                    {"Location"}},
                   {400, 403, 404, 422}, true));
    router.Add("GET", "/v1/patients/{patient}/certificates", bind(&Routes::List),
               Doc("The patient's certificates",
                   {200,
                    "Issued certificates",
                    {JsonContent(Object(
                        {{"certificates", {{"type", "array"}, {"items", Certificate(false)}}}}))},
                    {}},
                   {403, 404}));
    router.Add("GET", one, bind(&Routes::GetOne),
               Doc("One certificate",
                   {200, "The certificate", {JsonContent(Certificate(false))}, {}}, {403, 404}));
    router.Add(
        "GET", one + "/qr.png", bind(&Routes::QrPng),
        Doc("The certificate's QR code (PNG)",
            {200, "QR code", {{"image/png", {{"type", "string"}, {"format", "binary"}}}}, {}},
            {403, 404}));
    router.Add("GET", one + "/qr.svg", bind(&Routes::QrSvg),
               Doc("The certificate's QR code (SVG)",
                   {200, "QR code", {{"image/svg+xml", {{"type", "string"}}}}, {}}, {403, 404}));
    router.Add("GET", one + "/print", bind(&Routes::Print),
               Doc("The printable page (A4 and phone; ?lang=nl|fr|en)",
                   {200, "HTML page", {{"text/html", {{"type", "string"}}}}, {}}, {403, 404}));
    router.Add("POST", one + "/revocation", bind(&Routes::Revoke),
               Doc("Revoke a certificate with a reason (the issuing entity or an administrator)",
                   {200,
                    "Revoked",
                    {JsonContent(Object(
                        {{"uvci", {{"type", "string"}}},
                         {"status", {{"type", "string"}}},
                         {"positions", {{"type", "array"}, {"items", {{"type", "integer"}}}}}}))},
                    {}},
                   {400, 403, 404, 422}, true));
    RouteDoc signers =
        Doc("Public: the document signer certificates a verifier needs",
            {200,
             "The signers",
             {JsonContent(Object({{"signers",
                                   {{"type", "array"},
                                    {"items", Object({{"kid", {{"type", "string"}}},
                                                      {"certificate", {{"type", "string"}}},
                                                      {"subject", {{"type", "string"}}},
                                                      {"key_type", {{"type", "string"}}},
                                                      {"not_before", {{"type", "string"}}},
                                                      {"not_after", {{"type", "string"}}}})}}}}))},
             {}},
            {});
    signers.authenticated = false;
    router.Add("GET", "/v1/certificates/signers", bind(&Routes::Signers), std::move(signers));
    RouteDoc revocations =
        Doc("Public: the revoked certificates (SHA-256 of the UVCI, as the DCC revocation list)",
            {200,
             "Revocation list",
             {JsonContent(Object({{"country", {{"type", "string"}}},
                                  {"hash_type", {{"type", "string"}}},
                                  {"hashes", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                                  {"generated_at", {{"type", "string"}}}}))},
             {}},
            {});
    revocations.authenticated = false;
    router.Add("GET", "/v1/certificates/revocations", bind(&Routes::Revocations),
               std::move(revocations));
  }

 private:
  Result<Caller> Authenticate(const Request& request) const {
    const std::string token = SessionToken(request);
    if (token.empty()) {
      return Status(Code::kUnauthenticated,
                    "log in first: POST /v1/sessions with the identity provider's assertion");
    }
    VX_ASSIGN_OR_RETURN(Session s, sessions_.Find(token, options_.clock_us()));
    Caller c;
    c.person = s.person;
    c.insz = s.insz;
    c.entity = s.entity;
    c.on_behalf_of = s.on_behalf_of;
    return c;
  }

  // The certificate, if the caller may see the patient's certificates; the read is recorded.
  Status Lookup(const RegistryState& s, const Caller& caller, const std::string& patient,
                const std::string& uvci, IssuedCertificate* out) {
    VX_RETURN_IF_ERROR(CheckCertificateAccess(s, caller, patient));
    const IssuedCertificate* c = s.vaccinations.FindPatient(patient)->FindCertificate(uvci);
    if (c == nullptr) return NotFound("certificate " + uvci + " is not found");
    VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(s.membership, caller));
    VX_RETURN_IF_ERROR(reads_.Record(caller, acting.role, acting.physician, patient));
    *out = *c;
    return Status::Ok();
  }

  Result<IssuedCertificate> Find(const Caller& caller, const std::string& patient,
                                 const std::string& uvci) {
    IssuedCertificate c;
    Status found;
    VX_RETURN_IF_ERROR(registry_
                           .Read([&](const RegistryState& s) {
                             found = Lookup(s, caller, patient, uvci, &c);
                             return true;
                           })
                           .status());
    VX_RETURN_IF_ERROR(found);
    return c;
  }

  // POST /v1/patients/{patient}/certificates
  //   {"family_name", "given_name"?, "vaccination"?, "date_of_birth"?}
  Result<Response> Issue(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body,
                        JsonObject::Parse(request.body, {"family_name", "given_name", "vaccination",
                                                         "date_of_birth"}));
    VX_ASSIGN_OR_RETURN(std::string family_name, body.String("family_name"));
    VX_ASSIGN_OR_RETURN(std::string given_name, body.OptionalString("given_name"));
    VX_ASSIGN_OR_RETURN(std::string vaccination_id, body.OptionalString("vaccination"));
    VX_ASSIGN_OR_RETURN(std::string given_dob, body.OptionalString("date_of_birth"));
    VX_RETURN_IF_ERROR(CheckDob(given_dob));
    const std::string patient = request.params.at("patient");
    // What the certificate says, from the views (the decision checks it again).
    struct Facts {
      Vaccination vaccination;
      certificate::DoseInSeries dose;
      std::string dob;
    };
    VX_ASSIGN_OR_RETURN(auto read, registry_.Read([&](const RegistryState& s) -> Result<Facts> {
      VX_RETURN_IF_ERROR(CheckCertificateAccess(s, caller, patient));
      const Patient& p = *s.vaccinations.FindPatient(patient);
      VX_ASSIGN_OR_RETURN(const Vaccination* v, certificate::ChooseVaccination(p, vaccination_id));
      Facts f{*v, certificate::DoseNumbers(p, *v), p.birth_date};
      if (!p.insz.empty()) {
        auto insz = ParseInsz(p.insz);
        if (insz.ok() && insz->birth_date) f.dob = *insz->birth_date;
      }
      return f;
    }));
    VX_ASSIGN_OR_RETURN(Facts facts, std::move(read));
    if (!given_dob.empty() && !facts.dob.empty() && given_dob != facts.dob) {
      return InvalidArgument("date_of_birth " + given_dob +
                                 " differs from the one the registry "
                                 "knows (" +
                                 facts.dob + "): leave it out",
                             "date_of_birth");
    }
    if (facts.dob.empty()) facts.dob = given_dob;
    if (!options_.signer) {
      return Unavailable(
          "no document signer key: create one with `vaxledger certificate keys "
          "--create --data DIR` and restart the server");
    }
    certificate::VaccinationDccInput in;
    in.family_name = family_name;
    in.given_name = given_name;
    in.date_of_birth = facts.dob;
    in.vaccination = &facts.vaccination;
    in.dose = facts.dose;
    in.country = options_.country;
    in.issuer = options_.issuer;
    in.uvci = certificate::NewUvci(options_.country);
    VX_ASSIGN_OR_RETURN(json dcc, certificate::BuildVaccinationDcc(in));
    const int64_t now_us = options_.clock_us();
    certificate::HcertClaims claims;
    claims.issuer = options_.country;
    claims.issued_at_s = now_us / 1000000;
    claims.expires_at_s = std::min(claims.issued_at_s + options_.validity_s,
                                   options_.signer->certificate().not_after_s);
    claims.dcc = dcc;
    VX_ASSIGN_OR_RETURN(auto hcert, certificate::EncodeHcert(claims, *options_.signer));

    IssueCertificate command;
    command.patient = patient;
    command.vaccination_id = facts.vaccination.id;
    command.uvci = in.uvci;
    const auto& kid = options_.signer->certificate().kid;
    command.kid = Base64Encode(ByteView(kid.data(), kid.size()));
    command.signature_sha256 = Base64Encode(AsBytes(hcert.signature_hash));
    command.dn = facts.dose.dn;
    command.sd = facts.dose.sd;
    command.expires_at_us = claims.expires_at_s * 1000000;
    command.family_name = family_name;
    command.given_name = given_name;
    command.hc1 = hcert.hc1;
    caller.now_us = now_us;
    // No idempotency key: a retried request is another certificate, recorded as such.
    VX_ASSIGN_OR_RETURN(auto outcome, registry_.Execute(caller, command));
    IssuedCertificate issued;
    issued.uvci = command.uvci;
    issued.vaccination_id = command.vaccination_id;
    issued.entity = caller.entity;
    issued.issued_by = caller.person;
    issued.kid = command.kid;
    issued.signature_sha256 = command.signature_sha256;
    issued.dn = command.dn;
    issued.sd = command.sd;
    issued.issued_at_us = claims.issued_at_s * 1000000;
    issued.expires_at_us = command.expires_at_us;
    issued.family_name = family_name;
    issued.given_name = given_name;
    issued.hc1 = hcert.hc1;
    issued.position = outcome.positions.empty() ? 0 : outcome.positions.front();
    json out = CertificateJson(patient, issued);
    out["dcc"] = dcc;
    Response r = Json(201, out);
    r.headers.emplace_back("Location", out["links"]["self"].get<std::string>());
    return r;
  }

  Result<Response> List(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    const std::string patient = request.params.at("patient");
    VX_ASSIGN_OR_RETURN(auto list, registry_.Read([&](const RegistryState& s) -> Result<json> {
      VX_RETURN_IF_ERROR(CheckCertificateAccess(s, caller, patient));
      VX_ASSIGN_OR_RETURN(Acting acting, ActingIn(s.membership, caller));
      VX_RETURN_IF_ERROR(reads_.Record(caller, acting.role, acting.physician, patient));
      json items = json::array();
      for (const auto& c : s.vaccinations.FindPatient(patient)->certificates) {
        items.push_back(CertificateJson(patient, c));
      }
      return json{{"certificates", items}};
    }));
    VX_ASSIGN_OR_RETURN(json body, std::move(list));
    return Json(200, body);
  }

  Result<Response> GetOne(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto c,
                        Find(caller, request.params.at("patient"), request.params.at("uvci")));
    return Json(200, CertificateJson(request.params.at("patient"), c));
  }

  Result<Response> QrPng(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto c,
                        Find(caller, request.params.at("patient"), request.params.at("uvci")));
    VX_ASSIGN_OR_RETURN(auto qr, certificate::EncodeQr(c.hc1));
    VX_ASSIGN_OR_RETURN(Bytes png, certificate::QrPng(qr, 4));
    Response r;
    r.content_type = "image/png";
    r.body.assign(png.begin(), png.end());
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  Result<Response> QrSvg(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto c,
                        Find(caller, request.params.at("patient"), request.params.at("uvci")));
    VX_ASSIGN_OR_RETURN(auto qr, certificate::EncodeQr(c.hc1));
    Response r;
    r.content_type = "image/svg+xml";
    r.body = certificate::QrSvg(qr);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  // A page to print (A4) or show on a phone: the QR code, the UVCI and what the certificate says.
  Result<Response> Print(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    const std::string patient = request.params.at("patient");
    VX_ASSIGN_OR_RETURN(auto c, Find(caller, patient, request.params.at("uvci")));
    const std::string lang = request.query.contains("lang") ? request.query.at("lang") : "nl";
    const Words& w = WordsFor(lang);
    VX_ASSIGN_OR_RETURN(auto qr, certificate::EncodeQr(c.hc1));
    VX_ASSIGN_OR_RETURN(auto vaccination, registry_.Read([&](const RegistryState& s) {
      const Patient* p = s.vaccinations.FindPatient(patient);
      const Vaccination* v = p ? p->Find(c.vaccination_id) : nullptr;
      return v ? *v : Vaccination{};
    }));
    const VaccineProduct* product = FindVaccineProduct(vaccination.product);
    auto row = [](const char* label, const std::string& value) {
      return "<tr><th>" + std::string(label) + "</th><td>" + Escape(value) + "</td></tr>";
    };
    std::string html =
        "<!doctype html><html lang=\"" + std::string(lang == "fr" || lang == "en" ? lang : "nl") +
        "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, "
        "initial-scale=1\"><title>" +
        w.title +
        "</title><style>"
        "@page{size:A4;margin:20mm}body{font-family:sans-serif;max-width:180mm;margin:0 auto;"
        "padding:1em;color:#111}h1{font-size:1.6em}.qr{width:100%;max-width:90mm;display:block;"
        "margin:1em auto}table{border-collapse:collapse;width:100%}th{text-align:left;"
        "padding:.3em 1em .3em 0;vertical-align:top;width:40%}td{padding:.3em 0;"
        "word-break:break-all}.revoked{color:#b00;font-weight:bold;font-size:1.4em}"
        "@media print{button{display:none}}@media (max-width:600px){body{font-size:1.1em}}"
        "</style></head><body><h1>" +
        w.title + "</h1>";
    if (c.status == "revoked") html += "<p class=\"revoked\">" + std::string(w.revoked) + "</p>";
    html += "<div class=\"qr\">" + certificate::QrSvg(qr) + "</div><table>";
    html += row(w.name, c.family_name + (c.given_name.empty() ? "" : ", " + c.given_name));
    html += row(w.vaccine, product ? std::string(product->name) + " (" + vaccination.product + ")"
                                   : vaccination.product);
    html += row(w.dose, std::to_string(c.dn) + "/" + std::to_string(c.sd));
    html += row(w.date, vaccination.date);
    html += row(w.issuer, options_.issuer);
    html += row(w.expires, Utc(c.expires_at_us / 1000000).substr(0, 10));
    html += row("UVCI", c.uvci);
    html += "</table><p><button onclick=\"print()\">" + std::string(w.print) +
            "</button></p></body></html>\n";
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(html);
    r.headers.emplace_back("Cache-Control", "no-store");
    return r;
  }

  Result<Response> Revoke(const Request& request) {
    VX_ASSIGN_OR_RETURN(Caller caller, Authenticate(request));
    VX_ASSIGN_OR_RETURN(auto body, JsonObject::Parse(request.body, {"reason"}));
    RevokeCertificate command;
    command.patient = request.params.at("patient");
    command.uvci = request.params.at("uvci");
    VX_ASSIGN_OR_RETURN(command.reason, body.String("reason"));
    VX_ASSIGN_OR_RETURN(auto outcome, registry_.Execute(caller, command));
    return Json(200,
                {{"uvci", command.uvci}, {"status", "revoked"}, {"positions", outcome.positions}});
  }

  Result<Response> Signers(const Request&) {
    json list = json::array();
    for (const auto& s : options_.published) {
      list.push_back({{"kid", Base64Encode(ByteView(s.kid.data(), s.kid.size()))},
                      {"certificate", s.pem},
                      {"subject", s.subject},
                      {"key_type", s.key_type},
                      {"not_before", Utc(s.not_before_s)},
                      {"not_after", Utc(s.not_after_s)}});
    }
    return Json(200, {{"signers", list}});
  }

  // The DCC revocation list's form (hash type UCI): SHA-256 of the UVCI, the first 16 bytes, in
  // base64, in the order the certificates were issued.
  Result<Response> Revocations(const Request&) {
    VX_ASSIGN_OR_RETURN(auto entries, registry_.Read([&](const RegistryState& s) {
      json list = json::array();
      for (const auto& [position, uvci] : s.vaccinations.RevokedCertificates()) {
        const Hash h = Sha256(AsBytes(uvci));
        list.push_back(Base64Encode(ByteView(h.data(), 16)));
      }
      return list;
    }));
    return Json(200, {{"country", options_.country},
                      {"hash_type", "UCI"},
                      {"hashes", entries},
                      {"generated_at", Utc(options_.clock_us() / 1000000)}});
  }

  Registry& registry_;
  SessionStore& sessions_;
  projections::ReadRecorder& reads_;
  CertificateRoutesOptions options_;
};

}  // namespace

void AddCertificateRoutes(Router& router, Registry& registry, SessionStore& sessions,
                          projections::ReadRecorder& reads, CertificateRoutesOptions options) {
  std::make_shared<Routes>(registry, sessions, reads, std::move(options))->Add(router);
}

}  // namespace vaxledger::http
