// vaxledger: the registry's command-line program.
//
//   vaxledger init --data DIR [--origin NAME] [--admin INSZ | --demo]
//   vaxledger projections rebuild --data DIR [VIEW]...
//   vaxledger projections status --data DIR
//   vaxledger projections dump (--data DIR | --views DIR) [VIEW]...
//   vaxledger replay --data DIR --until POSITION|TIME --out DIR2
//   vaxledger ledger status --data DIR
//   vaxledger ledger verify (--data DIR | --export FILE) [--vkey FIRST_VKEY]...
//   vaxledger ledger export --data DIR --out FILE
//   vaxledger ledger checkpoint --data DIR
//   vaxledger ledger verify-note --vkey VKEY [--vkey VKEY]... FILE
//   vaxledger ledger witness --key FILE [--name NAME] --state FILE --vkey VKEY... CHECKPOINT
//                            [--proof FILE]
//   vaxledger ledger prove --data DIR --index I [--size N]
//   vaxledger ledger consistency --data DIR OLD_CHECKPOINT_FILE
//   vaxledger keys rotate --data DIR
//   vaxledger serve --data DIR [--listen HOST:PORT] [--demo] [--idp-vkey VKEY]...
//                   [--witness VKEY]...
//   vaxledger idp init --data DIR
//   vaxledger idp issue --data DIR --insz INSZ [--name N] [--email E] [--aud A] [--ttl S]
//   vaxledger certificate keys --data DIR [--create]
//   vaxledger certificate verify --dsc CERT_FILE... [--at TIME] [--schema FILE] FILE|-
//   vaxledger impact doses|coverage|population --data DIR ...   (tools/impact_command.h)
//   vaxledger erase --data DIR --insz INSZ [--person] --reason TEXT   (tools/erase_command.h)
//
// Exit codes: 0 success; 1 the thing checked does not verify; 2 the command could not run (bad
// arguments, missing or too-open key, no database, unreadable file).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/core.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/cosignature.h"
#include "core/identifiers.h"
#include "core/jws.h"
#include "core/merkle.h"
#include "core/signed_note.h"
#include "eventstore/checkpoint.h"
#include "eventstore/checkpoint_file.h"
#include "eventstore/ledger_export.h"
#include "eventstore/log_verifier.h"
#include "eventstore/registry_key.h"
#include "eventstore/rocksdb_storage.h"
#include "http/routes.h"
#include "http/server.h"
#include "http/sessions.h"
#include "projections/impact.h"
#include "projections/mail_outbox.h"
#include "projections/read_recorder.h"
#include "projections/rebuild.h"
#include "projections/registry.h"
#include "projections/view_store.h"
#include "projections/views.h"
#include "tools/certificate_command.h"
#include "tools/data_dir.h"
#include "tools/demo.h"
#include "tools/erase_command.h"
#include "tools/impact_command.h"
#include "tools/witness.h"

namespace vaxledger::tools {
namespace {

using eventstore::Position;

int Fail(const Status& s) {
  fmt::print(stderr, "vaxledger: {}\n", s.ToString());
  return 2;
}

std::string B64(const Hash& h) { return Base64Encode(AsBytes(h)); }

// A progress printer for long jobs: prints to stderr only when it is a terminal.
std::function<void(Position, Position)> Progress(const char* what) {
  if (!::isatty(STDERR_FILENO)) return {};
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [what, last](Position done, Position total) {
    auto now = std::chrono::steady_clock::now();
    if (now - *last < std::chrono::milliseconds(200) && done != total) return;
    *last = now;
    fmt::print(stderr, "\r{}: {} / {} events ({:.0f}%){}", what, done, total,
               total ? 100.0 * done / total : 100.0, done == total ? "\n" : "");
  };
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FailedPrecondition("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The data directory's log opened read-only (it may run beside a server), and the registry's
// verifier key. The key file is checked as at start-up.
struct ReadOnlyDir {
  std::unique_ptr<eventstore::LogStorage> storage;
  NoteVerifierKey vkey;               // the registry key's public half: the key in force
  std::vector<NoteVerifierKey> keys;  // every key the log has had, the first one first
};

Result<ReadOnlyDir> OpenReadOnly(const std::string& dir) {
  VX_RETURN_IF_ERROR(CheckPrivateDataDir(dir));
  VX_ASSIGN_OR_RETURN(NoteSigner signer, eventstore::LoadRegistryKey(KeyPath(dir)));
  eventstore::RocksDbStorageOptions options;
  options.read_only = true;
  VX_ASSIGN_OR_RETURN(auto storage, eventstore::OpenRocksDbStorage(LogPath(dir), options));
  VX_ASSIGN_OR_RETURN(auto schedule, eventstore::ReadKeySchedule(*storage));
  ReadOnlyDir ro{std::move(storage), signer.verifier(), {}};
  for (auto& [from, key] : schedule) ro.keys.push_back(std::move(key));
  if (ro.keys.empty()) ro.keys.push_back(ro.vkey);
  return ro;
}

Result<std::vector<NoteVerifierKey>> ParseKeys(const std::vector<std::string>& texts) {
  std::vector<NoteVerifierKey> keys;
  for (const auto& t : texts) {
    VX_ASSIGN_OR_RETURN(auto k, NoteVerifierKey::Parse(t));
    keys.push_back(std::move(k));
  }
  return keys;
}

int RunStatus(const std::string& dir) {
  // Read-only, so that it works beside a running server.
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto size = ro->storage->RecordCount();
  if (!size.ok()) return Fail(size.status());
  std::string last_leaf = "-", root = B64(merkle::EmptyRoot());
  if (*size > 0) {
    auto last = ro->storage->ReadRecords(*size - 1, 1, /*forward=*/true);
    if (!last.ok()) return Fail(last.status());
    if (last->empty()) return Fail(DataLoss("the last record is missing"));
    last_leaf = HexEncode(AsBytes(eventstore::LeafHash(last->front().leaf)));
    auto latest = ro->storage->ReadCheckpoint();
    if (!latest.ok()) return Fail(latest.status());
    if (*latest) {
      auto cp = eventstore::OpenCheckpoint(**latest, {ro->vkey});
      root = cp.ok() ? B64(cp->root) : "(checkpoint does not open: " + cp.status().message() + ")";
    }
  }
  fmt::print("data        {}\nvkey        {}\nevents      {}\nlast leaf   {}\nroot        {}\n",
             dir, ro->vkey.ToText(), *size, last_leaf, root);
  return 0;
}

int Report(const Result<eventstore::VerifyReport>& report, double seconds) {
  if (!report.ok()) return Fail(report.status());
  if (report->first_failure) {
    fmt::print("FAIL at position {}: {} ({} events before it verified)\n", *report->first_failure,
               report->reason, report->verified);
    return 1;
  }
  if (!report->checkpoint_problem.empty()) {
    fmt::print("FAIL: {} (all {} events verified)\n", report->checkpoint_problem, report->verified);
    return 1;
  }
  fmt::print("OK {} events and {} checkpoints verified in {:.2f} s ({:.0f} events/s); root {}\n",
             report->verified, report->checkpoints_verified, seconds,
             seconds > 0 ? report->verified / seconds : 0.0, B64(report->root));
  return 0;
}

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int RunVerify(const std::string& dir, const std::vector<std::string>& vkeys, size_t threads) {
  auto trusted = ParseKeys(vkeys);
  if (!trusted.ok()) return Fail(trusted.status());
  auto ro = OpenReadOnly(dir);
  if (!ro.ok() && ro.status().code() == Code::kDataLoss) {
    // RocksDB found the damage itself (a write-ahead log or table checksum): its message names
    // the file.
    fmt::print("FAIL: {}\n", ro.status().message());
    return 1;
  }
  if (!ro.ok()) return Fail(ro.status());
  if (trusted->empty()) trusted->push_back(ro->keys.front());  // the first key the log recorded
  eventstore::VerifyOptions options;
  options.threads = threads;
  options.progress = Progress("verifying");
  // What the log acknowledged, kept outside its database: a log shorter than it fails.
  auto acknowledged = eventstore::CheckpointFile::ReadLatest(CheckpointFilePath(dir));
  if (!acknowledged.ok()) {
    fmt::print("FAIL: {}\n", acknowledged.status().message());
    return 1;
  }
  options.acknowledged_checkpoint = *acknowledged;
  auto start = std::chrono::steady_clock::now();
  auto report = eventstore::VerifyLog(*ro->storage, *trusted, options);
  if (report.ok() && report->ok() && report->size > 0 &&
      (!report->final_key || report->final_key->ToText() != ro->vkey.ToText())) {
    fmt::print("FAIL: the key in force at the end of the log is not the registry key {}\n",
               ro->vkey.ToText());
    return 1;
  }
  return Report(report, Since(start));
}

int RunVerifyExport(const std::string& file, const std::vector<std::string>& vkeys,
                    size_t threads) {
  auto trusted = ParseKeys(vkeys);
  if (!trusted.ok()) return Fail(trusted.status());
  auto reader = eventstore::ExportReader::Open(file);
  if (!reader.ok()) {
    fmt::print("FAIL: {}\n", reader.status().message());
    return 1;
  }
  std::vector<NoteVerifierKey> keys = *trusted;
  if (keys.empty()) {
    keys = {(*reader)->keys().front().second};
    fmt::print(stderr,
               "vaxledger: no --vkey given: trusting the keys the file names; pass the registry's "
               "verifier key to check the file against a key you trust\n");
  }
  eventstore::VerifyOptions options;
  options.threads = threads;
  options.progress = Progress("verifying");
  auto start = std::chrono::steady_clock::now();
  auto report = eventstore::VerifyLedger(**reader, keys, options);
  if (report.ok() && report->ok()) {
    Status end = (*reader)->Finish();
    if (!end.ok()) {
      fmt::print("FAIL: {}\n", end.message());
      return 1;
    }
  }
  if (!report.ok() && report.status().code() == Code::kDataLoss) {
    fmt::print("FAIL: {}\n", report.status().message());
    return 1;
  }
  return Report(report, Since(start));
}

int RunExport(const std::string& dir, const std::string& out) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto start = std::chrono::steady_clock::now();
  Status s = eventstore::WriteExport(*ro->storage, out, Progress("exporting"));
  if (!s.ok()) return Fail(s);
  auto latest = ro->storage->ReadCheckpoint();
  fmt::print("exported to {} in {:.2f} s\n", out, Since(start));
  if (latest.ok() && *latest) fmt::print("{}", **latest);
  return 0;
}

int RunCheckpoint(const std::string& dir) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto latest = ro->storage->ReadCheckpoint();
  if (!latest.ok()) return Fail(latest.status());
  if (!*latest) return Fail(FailedPrecondition("the log has no checkpoint yet"));
  fmt::print("{}", **latest);
  return 0;
}

int RunRotate(const std::string& dir) {
  auto rotated = RotateRegistryKey(dir);
  if (!rotated.ok()) return Fail(rotated.status());
  fmt::print("rotated at position {}\n  new vkey  {}\n", rotated->position, rotated->key.ToText());
  return 0;
}

// Parses "host:port".
Result<std::pair<std::string, uint16_t>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("listen: expected HOST:PORT", "listen");
  auto port = ParseDecimal(listen.substr(colon + 1), "listen");
  if (!port.ok() || *port > 65535) {
    return InvalidArgument("listen: the port must be a number from 0 to 65535", "listen");
  }
  return std::make_pair(listen.substr(0, colon), static_cast<uint16_t>(*port));
}

// The development identity provider: the key name of DIR/idp-dev.key.
constexpr const char* kDevIdpName = "vaxledger-dev-idp";

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The registry's origin: the name of its key (and of its checkpoints).
Result<std::string> RegistryOrigin(const std::string& dir) {
  VX_ASSIGN_OR_RETURN(NoteSigner key, eventstore::LoadRegistryKey(KeyPath(dir)));
  return key.name();
}

// What `serve` takes besides the data directory and the listen address.
struct ServeFlags {
  bool demo = false;
  std::vector<std::string> idp_vkeys;
  size_t threads = 0;
  // "auto": the session cookie is Secure except in demo mode on a loopback address.
  std::string secure_cookie = "auto";
  size_t max_connections_per_client = http::ServerOptions{}.max_connections_per_client;
  std::string dcc_issuer;                  // the DCC "is" field (--dcc-issuer)
  std::vector<std::string> witness_vkeys;  // witnesses whose cosignatures are published
  size_t cache_mb = 64;                    // the view stores' shared block cache (--cache-mb)
};

int RunServe(const std::string& dir, const std::string& listen, const ServeFlags& flags) {
  const bool demo = flags.demo;
  const std::vector<std::string>& idp_vkeys = flags.idp_vkeys;
  const size_t threads = flags.threads;
  const std::string& dcc_issuer = flags.dcc_issuer;
  const std::vector<std::string>& witness_vkeys = flags.witness_vkeys;
  auto where = ParseListen(listen);
  if (!where.ok()) return Fail(where.status());
  // SIGTERM and SIGINT are taken by sigwait below, in this thread only: block them before any
  // other thread starts, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto log = OpenDataDir(dir, {}, Progress("verifying the log's tail"));
  if (!log.ok()) return Fail(log.status());
  auto subjects = OpenSubjects(dir);
  if (!subjects.ok()) return Fail(subjects.status());
  projections::ViewStore::SetCacheBytes(flags.cache_mb << 20);
  projections::RegistryOptions registry_options;
  registry_options.views_dir = ViewsPath(dir);
  registry_options.subjects = *subjects;
  registry_options.progress = Progress("views");
  auto registry = projections::Registry::Open(**log, registry_options);
  if (!registry.ok()) return Fail(registry.status());

  http::RegistryRoutesOptions routes_options;
  {
    const bool loopback = where->first.starts_with("127.") || where->first == "::1";
    routes_options.secure_cookie =
        flags.secure_cookie == "on" || (flags.secure_cookie == "auto" && !(demo && loopback));
  }
  // An assertion's "aud" must be this registry's origin (docs/api.md, "Sessions and assertions").
  auto origin = RegistryOrigin(dir);
  if (!origin.ok()) return Fail(origin.status());
  routes_options.assertions.audience = *origin;
  // A provider's assertions carry its name (the verifier key's name) as "iss".
  for (const std::string& text : idp_vkeys) {
    auto vkey = NoteVerifierKey::Parse(text);
    if (!vkey.ok()) return Fail(vkey.status());
    routes_options.providers.push_back(
        {HexEncode(ByteView(vkey->key_id.data(), vkey->key_id.size())), vkey->public_key,
         vkey->name});
  }
  std::optional<NoteSigner> dev_idp;
  if (demo) {
    if (!std::filesystem::exists(DevIdpKeyPath(dir))) {
      auto created = eventstore::CreateRegistryKey(DevIdpKeyPath(dir), kDevIdpName);
      if (!created.ok()) return Fail(created.status());
    }
    auto key = eventstore::LoadRegistryKey(DevIdpKeyPath(dir));
    if (!key.ok()) return Fail(key.status());
    dev_idp = *key;
    const KeyId& id = dev_idp->key_id();
    routes_options.providers.push_back({HexEncode(ByteView(id.data(), id.size())),
                                        dev_idp->verifier().public_key, dev_idp->name()});
    Status seeded = SeedDemo(**registry);
    if (!seeded.ok()) return Fail(seeded);
  }
  if (routes_options.providers.empty()) {
    fmt::print(stderr,
               "vaxledger: no identity provider configured (--idp-vkey): nobody can log in\n");
  }
  // Sessions survive a restart: a small database of their token hashes beside the log.
  auto sessions = http::SessionStore::Open(SessionsPath(dir), {}, NowUs());
  if (!sessions.ok()) return Fail(sessions.status());
  // A person erased while the server was down (or by a crash between the erasure and the end of
  // their sessions) has no data key any more: their sessions, which hold their name, end.
  for (const std::string& person : (*sessions)->People()) {
    auto key = (*subjects)->Key(person);
    if (!key.ok()) return Fail(key.status());
    if (!*key) {
      auto ended = (*sessions)->EndPerson(person);
      if (!ended.ok()) return Fail(ended.status());
    }
  }
  std::optional<projections::ReadRecorder> reads;
  reads.emplace(**log);
  auto outbox = projections::MailOutbox::Open(**log, **registry, dir + "/outbox");
  if (!outbox.ok()) return Fail(outbox.status());
  // The impact figures follow the log into a store of their own (projections/impact.h).
  projections::ImpactOptions impact_options;
  impact_options.subjects = *subjects;
  auto impact = projections::ImpactProjection::Open(ImpactPath(dir), impact_options);
  if (!impact.ok()) return Fail(impact.status());
  auto impact_follower = projections::ImpactFollower::Start(**log, **impact);
  if (!impact_follower.ok()) return Fail(impact_follower.status());
  http::Metrics metrics;
  http::Router router;
  auto certificates = CertificateRoutesFor(dir, dcc_issuer);
  if (!certificates.ok()) return Fail(certificates.status());
  http::LedgerRoutesOptions ledger_options;
  for (const std::string& text : witness_vkeys) {
    auto witness = CosignerVerifierKey::Parse(text);
    if (!witness.ok()) return Fail(witness.status());
    ledger_options.witnesses.push_back(*witness);
  }
  http::AddAllRoutes(router, **log, metrics,
                     http::RegistryServices{**registry, **sessions, *reads, routes_options,
                                            impact->get(), impact_follower->get()},
                     std::move(certificates).value(), ledger_options);
  if (demo) AddDemoRoutes(router, *dev_idp, routes_options.assertions.audience);
  http::ServerOptions options;
  options.address = where->first;
  options.port = where->second;
  // Commands wait until their events are durable (group commit): they run on their own pool of
  // threads so that many share one commit, while queries stay on the I/O threads.
  if (threads > 0) options.threads = threads;
  options.max_connections_per_client = flags.max_connections_per_client;
  // The access log: one JSON object per line on stderr.
  // Asynchronous: a request thread formats its line and queues it; one spdlog thread writes.
  spdlog::init_thread_pool(65536, 1);
  auto access = spdlog::stderr_logger_mt<spdlog::async_factory>("access");
  access->set_pattern("%v");
  options.access_log = [access](const http::AccessRecord& r) {
    access->info(nlohmann::json{{"ts", std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count()},
                                {"remote", r.remote},
                                {"method", r.method},
                                {"target", r.target},
                                {"status", r.status},
                                {"bytes", r.response_bytes},
                                {"ms", r.seconds * 1000}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  };
  auto server = http::Server::Start(options, router);
  if (!server.ok()) return Fail(server.status());
  fmt::print("vaxledger: serving {} on http://{}:{} ({} events)\n", dir, options.address,
             (*server)->port(), (*log)->Head().size);
  if (demo) {
    fmt::print(
        "demo mode: log in as any of these (POST /v1/demo/assertion {{\"insz\": ...}}, "
        "then POST /v1/sessions {{\"assertion\": ...}}):\n");
    for (const DemoPerson& p : DemoPeople()) {
      fmt::print("  {}  {:<18} {}\n", p.insz, p.name, p.what);
    }
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  fmt::print("vaxledger: {} received: finishing requests in flight\n",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*server)->Stop();
  reads.reset();             // appends the reads still queued
  outbox->reset();           // stops following the log
  impact_follower->reset();  // stops following the log; each applied batch is written already
  impact->reset();
  registry->reset();  // stops following the log; views are written as events are applied
  // Verifies what this run appended, so that the next start has nothing to verify.
  const Status verified = VerifyTailAtStop(dir, **log, Progress("verifying what this run wrote"));
  log->reset();       // every acknowledged event is already durable; this flushes and closes
  sessions->reset();  // every login and logout is already durable; this closes
  if (!verified.ok()) return Fail(verified);
  fmt::print("vaxledger: stopped\n");
  return 0;
}

// The development identity provider (SPEC §4): a key in the data directory that signs
// assertions for demo people. The server trusts it only when told to (demo mode).

int RunIdpInit(const std::string& dir) {
  auto key = eventstore::CreateRegistryKey(DevIdpKeyPath(dir), kDevIdpName);
  if (!key.ok()) return Fail(key.status());
  fmt::print("development identity provider key {}\n  vkey  {}\n", DevIdpKeyPath(dir),
             key->verifier().ToText());
  return 0;
}

int RunIdpIssue(const std::string& dir, const std::string& insz_text, const std::string& name,
                const std::string& email, const std::string& audience, int64_t ttl_s) {
  auto insz = ParseInsz(insz_text);
  if (!insz.ok()) return Fail(insz.status());
  if (ttl_s <= 0 || ttl_s > 24 * 3600) {
    return Fail(InvalidArgument("ttl: must be 1..86400 seconds", "ttl"));
  }
  auto key = eventstore::LoadRegistryKey(DevIdpKeyPath(dir));
  if (!key.ok()) return Fail(key.status());
  std::string aud = audience;
  if (aud.empty()) {  // the registry's origin, what `serve` expects
    auto origin = RegistryOrigin(dir);
    if (!origin.ok()) return Fail(origin.status());
    aud = *origin;
  }
  const int64_t now = NowUs() / 1000000;
  // A random jti: two assertions issued in the same second differ (each opens one session).
  uint8_t jti[16];
  RandomBytes(jti, sizeof jti);
  nlohmann::json claims = {{"iss", key->name()}, {"sub", insz->digits},
                           {"aud", aud},         {"iat", now},
                           {"exp", now + ttl_s}, {"jti", HexEncode(ByteView(jti, sizeof jti))}};
  if (!name.empty()) claims["name"] = name;
  if (!email.empty()) claims["email"] = email;
  const KeyId& id = key->key_id();
  fmt::print("{}\n", SignJws(claims.dump(), key->key(), HexEncode(ByteView(id.data(), id.size()))));
  return 0;
}

int RunVerifyNote(const std::vector<std::string>& vkeys, const std::string& file) {
  auto keys = ParseKeys(vkeys);
  if (!keys.ok()) return Fail(keys.status());
  auto note = ReadFile(file);
  if (!note.ok()) return Fail(note.status());
  auto opened = OpenNote(*note, *keys);
  if (!opened.ok()) {
    fmt::print("FAIL: {}\n", opened.status().message());
    return 1;
  }
  fmt::print("OK signed by");
  for (const auto& name : opened->verified) fmt::print(" {}", name);
  fmt::print("\n");
  return 0;
}

int RunWitness(tools::WitnessOptions options, const std::vector<std::string>& vkeys,
               const std::string& checkpoint_file, const std::string& proof_file) {
  auto keys = ParseKeys(vkeys);
  if (!keys.ok()) return Fail(keys.status());
  options.log_keys = *keys;
  auto checkpoint = ReadFile(checkpoint_file);
  if (!checkpoint.ok()) return Fail(checkpoint.status());
  options.checkpoint = *checkpoint;
  if (!proof_file.empty()) {
    auto proof = ReadFile(proof_file);
    if (!proof.ok()) return Fail(proof.status());
    options.proof = *proof;
  }
  auto cosigned = tools::Witness(options);
  if (!cosigned.ok()) {
    const Code code = cosigned.status().code();
    if (code != Code::kFailedPrecondition && code != Code::kInvalidArgument) {
      return Fail(cosigned.status());
    }
    fmt::print("FAIL: {}\n", cosigned.status().message());
    return 1;
  }
  fmt::print("{}", *cosigned);
  std::fflush(stdout);
  // The verifier key the registry is given (`serve --witness`), on stderr after the note.
  auto key = eventstore::ReadSecretFile(options.key_path, "witness key");
  auto cosigner = key.ok() ? Cosigner::Parse(*key) : Result<Cosigner>(key.status());
  if (!cosigner.ok()) return Fail(cosigner.status());
  fmt::print(stderr, "witness: cosigned by {}, verifier key {}\n", cosigner->name(),
             cosigner->verifier().ToText());
  return 0;
}

int RunProve(const std::string& dir, uint64_t index, std::optional<uint64_t> size_arg) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto latest = ro->storage->ReadCheckpoint();
  if (!latest.ok()) return Fail(latest.status());
  if (!*latest) return Fail(FailedPrecondition("the log has no checkpoint yet"));
  auto head = eventstore::OpenCheckpoint(**latest, {ro->vkey});
  if (!head.ok()) return Fail(head.status());
  const uint64_t size = size_arg.value_or(head->size);
  if (size > head->size) {
    return Fail(InvalidArgument("size: " + std::to_string(size) +
                                " is beyond the latest checkpoint's size " +
                                std::to_string(head->size)));
  }
  auto reader = eventstore::TreeNodeReader(*ro->storage);
  auto proof = merkle::InclusionProof(index, size, reader);
  if (!proof.ok()) return Fail(proof.status());
  auto leaf = reader(0, index);
  auto root = merkle::RootAt(size, reader);
  if (!leaf.ok()) return Fail(leaf.status());
  if (!root.ok()) return Fail(root.status());
  nlohmann::json out = {{"index", index},
                        {"size", size},
                        {"leaf_hash", B64(*leaf)},
                        {"root", B64(*root)},
                        {"proof", nlohmann::json::array()}};
  for (const Hash& h : *proof) out["proof"].push_back(B64(h));
  if (size == head->size) out["checkpoint"] = **latest;
  fmt::print("{}\n", out.dump(2));
  // Check what is printed, so that a damaged tree is never passed on as a proof.
  Status s = merkle::VerifyInclusion(index, size, *leaf, *proof, *root);
  if (!s.ok() || (size == head->size && *root != head->root)) {
    fmt::print(stderr, "FAIL: the stored tree does not prove this leaf: {}\n",
               s.ok() ? "root differs from the checkpoint" : s.message());
    return 1;
  }
  return 0;
}

int RunConsistency(const std::string& dir, const std::string& old_file) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto old_note = ReadFile(old_file);
  if (!old_note.ok()) return Fail(old_note.status());
  auto old = eventstore::OpenCheckpoint(*old_note, ro->keys);
  if (!old.ok()) {
    fmt::print("FAIL: the old checkpoint does not verify: {}\n", old.status().message());
    return 1;
  }
  auto latest = ro->storage->ReadCheckpoint();
  if (!latest.ok()) return Fail(latest.status());
  if (!*latest) return Fail(FailedPrecondition("the log has no checkpoint yet"));
  auto now = eventstore::OpenCheckpoint(**latest, {ro->vkey});
  if (!now.ok()) return Fail(now.status());
  if (old->size > now->size) {
    fmt::print("FAIL: the old checkpoint has {} events, more than today's {}\n", old->size,
               now->size);
    return 1;
  }
  auto proof =
      merkle::ConsistencyProof(old->size, now->size, eventstore::TreeNodeReader(*ro->storage));
  if (!proof.ok()) return Fail(proof.status());
  nlohmann::json out = {{"from", old->size},
                        {"to", now->size},
                        {"root_from", B64(old->root)},
                        {"root_to", B64(now->root)},
                        {"proof", nlohmann::json::array()},
                        {"checkpoint", **latest}};
  for (const Hash& h : *proof) out["proof"].push_back(B64(h));
  fmt::print("{}\n", out.dump(2));
  Status s = merkle::VerifyConsistency(old->size, now->size, old->root, now->root, *proof);
  if (!s.ok()) {
    fmt::print(stderr, "FAIL: today's log does not extend the old checkpoint: {}\n", s.message());
    return 1;
  }
  fmt::print(stderr, "OK today's log ({} events) extends the old checkpoint ({} events)\n",
             now->size, old->size);
  return 0;
}

int RunInitWithAdmin(const std::string& dir, const std::string& origin, const std::string& admin) {
  auto log = InitDataDir(dir, origin, admin);
  if (!log.ok()) return Fail(log.status());
  if (Status keys = CreateCertificateKeys(dir); !keys.ok()) return Fail(keys);
  fmt::print("initialised {}\n  key     {}\n  vkey    {}\n  events  {}\n  DCC     {}\n", dir,
             KeyPath(dir), (*log)->Head().key.ToText(), (*log)->Head().size,
             CertificateKeysDir(dir));
  if (admin.empty()) {
    fmt::print("  no administrator: pass --admin INSZ to name the first one\n");
  }
  return 0;
}

int RunRebuild(const std::string& dir, const std::vector<std::string>& views) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto subjects = OpenSubjects(dir, /*read_only=*/true);
  if (!subjects.ok()) return Fail(subjects.status());
  projections::RebuildOptions options;
  options.subjects = subjects->get();
  options.views = views;
  options.progress = Progress("rebuild");
  const auto start = std::chrono::steady_clock::now();
  auto report = projections::RebuildViews(*ro->storage, ViewsPath(dir), options);
  if (!report.ok()) return Fail(report.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& [name, generation] : report->generations) {
    fmt::print("rebuilt {} at position {} (generation {})\n", name, report->events, generation);
    auto removed = projections::ViewStore::RemoveStale(ViewsPath(dir), name);
    if (!removed.ok()) return Fail(removed);
  }
  fmt::print(
      "{} events in {:.2f} s ({:.0f} events/s); a running server switches to the rebuilt "
      "views at its next start\n",
      report->events, seconds, seconds > 0 ? report->events / seconds : 0.0);
  return 0;
}

int RunViewStatus(const std::string& dir) {
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto head = ro->storage->RecordCount();
  if (!head.ok()) return Fail(head.status());
  auto views = projections::ReadViewStatus(ViewsPath(dir));
  if (!views.ok()) return Fail(views.status());
  fmt::print("log           {} events\n", *head);
  for (const auto& v : *views) {
    if (v.generation == 0) {
      fmt::print("{:<14}never built\n", v.name);
      continue;
    }
    const uint64_t position = v.position.value_or(0);
    const bool stale = v.schema != v.expected_schema;
    fmt::print(
        "{:<14}position {} (behind by {}), generation {}, schema {}{}\n", v.name, position,
        *head > position ? *head - position : 0, v.generation, v.schema.value_or(0),
        stale ? fmt::format(" (rebuilt at next start: code has {})", v.expected_schema) : "");
  }
  return 0;
}

int RunReplay(const std::string& dir, const std::string& until, const std::string& out) {
  auto bound = projections::ParseLogBound(until, "until");
  if (!bound.ok()) return Fail(bound.status());
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !std::filesystem::is_empty(out, ec)) {
    return Fail(FailedPrecondition(out + " exists and is not empty"));
  }
  auto ro = OpenReadOnly(dir);
  if (!ro.ok()) return Fail(ro.status());
  auto subjects = OpenSubjects(dir, /*read_only=*/true);
  if (!subjects.ok()) return Fail(subjects.status());
  projections::RebuildOptions options;
  options.subjects = subjects->get();
  options.until = *bound;
  options.progress = Progress("replay");
  auto report = projections::RebuildViews(*ro->storage, out + "/views", options);
  if (!report.ok()) return Fail(report.status());
  std::ofstream note(out + "/REPLAY");
  note << "views of " << dir << " as they were after " << report->events << " events (until "
       << until << "); read them with `vaxledger projections dump --views " << out << "/views`\n";
  std::filesystem::permissions(
      out + "/views",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec |
          std::filesystem::perms::group_read | std::filesystem::perms::group_exec,
      ec);
  fmt::print("replayed {} events into {}/views\n", report->events, out);
  return 0;
}

int RunDump(const std::string& views_dir, const std::vector<std::string>& names) {
  std::vector<std::string> selected = names;
  if (selected.empty()) {
    for (auto n : projections::kViewNames) selected.emplace_back(n);
  }
  for (const std::string& name : selected) {
    if (!projections::ViewIndex(name)) {
      return Fail(InvalidArgument("view " + name + " is unknown", "view"));
    }
    auto store = projections::ViewStore::Open(views_dir, name, /*read_only=*/true);
    if (!store.ok()) return Fail(store.status());
    Status s = (*store)->ForEachRecord([&](const std::string& key, const std::string& value) {
      fmt::print(
          "{}\t{}\t{}\n", name, key,
          RecordAsJson(key, value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      return Status::Ok();
    });
    if (!s.ok()) return Fail(s);
  }
  return 0;
}

}  // namespace
}  // namespace vaxledger::tools

int main(int argc, char** argv) {
  using namespace vaxledger::tools;
  // Everything this program creates (log, views, keys, outbox) is for its owner only: the data
  // holds personal data (docs/storage.md, "What is on disk").
  ::umask(077);
  CLI::App app{"vaxledger: a vaccination registry on a signed, append-only event log"};
  app.require_subcommand(1);
  std::string dir, origin = "vaxledger.local/registry", file, out;
  std::vector<std::string> vkeys;
  size_t threads = 0;
  uint64_t index = 0;
  std::optional<uint64_t> size;

  auto* init = app.add_subcommand("init", "create a data directory: registry key and event log");
  init->add_option("--data", dir, "data directory")->required();
  init->add_option("--origin", origin, "log origin, also the key name")->capture_default_str();
  std::string admin;
  init->add_option("--admin", admin, "INSZ of the first administrator");
  bool init_demo = false;
  init->add_flag("--demo", init_demo, "make the demo administrator the first administrator");

  auto* ledger = app.add_subcommand("ledger", "inspect, prove and verify the event log");
  ledger->require_subcommand(1);
  auto* status = ledger->add_subcommand("status", "print the log's head and key");
  status->add_option("--data", dir, "data directory")->required();

  auto* verify = ledger->add_subcommand(
      "verify", "check every leaf hash, the chain, every signature and every checkpoint");
  auto* verify_data = verify->add_option("--data", dir, "data directory");
  auto* verify_export = verify->add_option("--export", file, "an export file (offline)");
  verify_data->excludes(verify_export);
  verify->add_option("--vkey", vkeys, "trusted first key (default: as the data directory says)");
  verify->add_option("--threads", threads, "threads (0 = one per core)")->capture_default_str();

  auto* exp = ledger->add_subcommand("export", "write the log to one self-contained file");
  exp->add_option("--data", dir, "data directory")->required();
  exp->add_option("--out", out, "export file")->required();

  auto* checkpoint = ledger->add_subcommand("checkpoint", "print the latest signed checkpoint");
  checkpoint->add_option("--data", dir, "data directory")->required();

  vaxledger::tools::WitnessOptions witness_options;
  std::string proof_file;
  auto* witness = ledger->add_subcommand(
      "witness", "check a checkpoint against the last one cosigned and cosign it (C2SP witness)");
  witness->add_option("--key", witness_options.key_path, "the witness's private key file")
      ->required();
  witness->add_option("--name", witness_options.name, "the witness's name, for a new key");
  witness->add_option("--state", witness_options.state_path, "the last checkpoint cosigned")
      ->required();
  witness->add_option("--vkey", vkeys, "the log's verifier key")->required();
  witness->add_option("--proof", proof_file, "consistency proof (JSON) from the state's size");
  witness->add_option("checkpoint", file, "the checkpoint to cosign")->required();
  auto* verify_note = ledger->add_subcommand("verify-note", "verify a C2SP signed note");
  verify_note->add_option("--vkey", vkeys, "verifier key")->required();
  verify_note->add_option("file", file, "the note")->required();

  auto* prove = ledger->add_subcommand("prove", "inclusion proof of one event");
  prove->add_option("--data", dir, "data directory")->required();
  prove->add_option("--index", index, "the event's position")->required();
  prove->add_option("--size", size, "tree size (default: the latest checkpoint's)");

  auto* consistency =
      ledger->add_subcommand("consistency", "prove that today's log extends an old checkpoint");
  consistency->add_option("--data", dir, "data directory")->required();
  consistency->add_option("old_checkpoint", file, "a checkpoint saved earlier")->required();

  std::string listen = "127.0.0.1:8080";
  auto* serve = app.add_subcommand("serve", "serve the HTTP API");
  serve->add_option("--data", dir, "data directory")->required();
  serve->add_option("--listen", listen, "HOST:PORT")->capture_default_str();
  bool demo = false;
  serve->add_flag("--demo", demo,
                  "demo mode: seed demo data, turn on the development identity provider");
  serve->add_option("--idp-vkey", vkeys, "an identity provider's verifier key (C2SP vkey text)");
  std::vector<std::string> witness_vkeys;
  serve->add_option("--witness", witness_vkeys,
                    "a witness whose cosignatures are published (cosigner vkey text)");
  serve->add_option("--threads", threads, "I/O and query threads (0 = 2)")->capture_default_str();
  ServeFlags serve_flags;
  serve
      ->add_option("--secure-cookie", serve_flags.secure_cookie,
                   "the session cookie's Secure attribute: on, off, or auto (on except with "
                   "--demo on a loopback address)")
      ->check(CLI::IsMember({"on", "off", "auto"}))
      ->capture_default_str();
  serve
      ->add_option("--max-connections-per-client", serve_flags.max_connections_per_client,
                   "open connections from one client address (raise it behind a proxy)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  serve
      ->add_option("--cache-mb", serve_flags.cache_mb,
                   "MiB of the block cache the views' stores share (records are read from disk "
                   "through it; nothing is loaded at start)")
      ->check(CLI::Range(size_t{8}, size_t{1} << 20))
      ->capture_default_str();

  auto* idp = app.add_subcommand("idp", "the development identity provider (demo and tests only)");
  idp->require_subcommand(1);
  auto* idp_init = idp->add_subcommand("init", "create the development provider's key");
  idp_init->add_option("--data", dir, "data directory")->required();
  auto* idp_issue = idp->add_subcommand("issue", "print a signed assertion (compact JWS, EdDSA)");
  std::string insz, person_name, email, audience;
  int64_t ttl = 600;
  idp_issue->add_option("--data", dir, "data directory")->required();
  idp_issue->add_option("--insz", insz, "the person's INSZ")->required();
  idp_issue->add_option("--name", person_name, "the person's name");
  idp_issue->add_option("--email", email, "the person's email");
  idp_issue->add_option("--aud", audience, "audience (default: the registry's origin)");
  idp_issue
      ->add_option("--ttl", ttl,
                   "seconds until it expires (serve accepts at most 600; more, to test that)")
      ->capture_default_str();

  auto* views = app.add_subcommand("projections", "the views built from the log");
  views->require_subcommand(1);
  std::vector<std::string> view_names;
  auto* rebuild = views->add_subcommand(
      "rebuild", "replay the log into fresh views; switch to them only when complete");
  rebuild->add_option("--data", dir, "data directory")->required();
  rebuild->add_option("view", view_names,
                      "membership, requests, vaccinations, stock (default all)");
  auto* view_status = views->add_subcommand("status", "each view's position and schema");
  view_status->add_option("--data", dir, "data directory")->required();
  auto* dump = views->add_subcommand("dump", "print every record of views as key and JSON");
  std::string views_dir;
  auto* dump_data = dump->add_option("--data", dir, "data directory");
  dump->add_option("--views", views_dir, "a views directory (e.g. from replay)")
      ->excludes(dump_data);
  dump->add_option("view", view_names, "view names (default all)");

  std::string until;
  auto* replay = app.add_subcommand(
      "replay", "rebuild every view as it was at a position or time, into another directory");
  replay->add_option("--data", dir, "data directory")->required();
  replay->add_option("--until", until, "POSITION (included) or UTC time YYYY-MM-DDTHH:MM:SSZ")
      ->required();
  replay->add_option("--out", out, "new directory for the views")->required();

  auto* keys = app.add_subcommand("keys", "manage the registry key");
  keys->require_subcommand(1);
  auto* rotate = keys->add_subcommand(
      "rotate", "new registry key: a rotation event signed by the old key names the new one");
  rotate->add_option("--data", dir, "data directory")->required();

  CertificateCommands certificate_commands(app);
  ImpactCommands impact_commands(app);
  EraseCommand erase_command(app);
  std::string dcc_issuer;
  serve->add_option("--dcc-issuer", dcc_issuer, "the certificates' issuer (DCC \"is\")");

  CLI11_PARSE(app, argc, argv);
  if (auto rc = certificate_commands.Run()) return *rc;
  if (auto rc = impact_commands.Run()) return *rc;
  if (auto rc = erase_command.Run()) return *rc;
  if (init->parsed()) {
    return RunInitWithAdmin(dir, origin, init_demo ? DemoAdministratorInsz() : admin);
  }
  if (rebuild->parsed()) return RunRebuild(dir, view_names);
  if (view_status->parsed()) return RunViewStatus(dir);
  if (dump->parsed()) {
    if (views_dir.empty() && dir.empty()) {
      std::fputs("vaxledger: projections dump needs --data DIR or --views DIR\n", stderr);
      return 2;
    }
    return RunDump(views_dir.empty() ? ViewsPath(dir) : views_dir, view_names);
  }
  if (replay->parsed()) return RunReplay(dir, until, out);
  if (status->parsed()) return RunStatus(dir);
  if (verify->parsed()) {
    if (!file.empty()) return RunVerifyExport(file, vkeys, threads);
    if (dir.empty()) {
      std::fputs("vaxledger: ledger verify needs --data DIR or --export FILE\n", stderr);
      return 2;
    }
    return RunVerify(dir, vkeys, threads);
  }
  if (exp->parsed()) return RunExport(dir, out);
  if (checkpoint->parsed()) return RunCheckpoint(dir);
  if (verify_note->parsed()) return RunVerifyNote(vkeys, file);
  if (witness->parsed()) return RunWitness(witness_options, vkeys, file, proof_file);
  if (prove->parsed()) return RunProve(dir, index, size);
  if (consistency->parsed()) return RunConsistency(dir, file);
  if (rotate->parsed()) return RunRotate(dir);
  if (serve->parsed()) {
    serve_flags.demo = demo;
    serve_flags.idp_vkeys = vkeys;
    serve_flags.threads = threads;
    serve_flags.dcc_issuer = dcc_issuer;
    serve_flags.witness_vkeys = witness_vkeys;
    return RunServe(dir, listen, serve_flags);
  }
  if (idp_init->parsed()) return RunIdpInit(dir);
  if (idp_issue->parsed()) return RunIdpIssue(dir, insz, person_name, email, audience, ttl);
  return 2;
}
