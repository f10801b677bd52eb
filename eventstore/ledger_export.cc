#include "eventstore/ledger_export.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "eventstore/checkpoint.h"

namespace vaxledger::eventstore {
namespace {

constexpr std::string_view kMagic = "vaxledger-export/v1";

bool ParseU64(std::string_view text, uint64_t* out) {
  auto v = ParseDecimal(text);
  if (v.ok()) *out = *v;
  return v.ok();
}

std::vector<std::string_view> SplitSpaces(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t sp = line.find(' ', start);
    parts.push_back(line.substr(start, sp - start));
    if (sp == std::string_view::npos) return parts;
    start = sp + 1;
  }
}

// A buffered writer that remembers whether every write succeeded.
class Writer {
 public:
  explicit Writer(std::FILE* f) : f_(f) {}
  void Write(std::string_view s) {
    ok_ = ok_ && std::fwrite(s.data(), 1, s.size(), f_) == s.size();
  }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  bool ok_ = true;
};

void WriteCheckpoint(Writer& w, uint64_t size, const std::string& note) {
  w.Write("checkpoint " + std::to_string(size) + " " + std::to_string(note.size()) + "\n");
  w.Write(note);
}

}  // namespace

Status WriteExport(LogStorage& storage, const std::string& path,
                   const std::function<void(Position, Position)>& progress) {
  VX_ASSIGN_OR_RETURN(auto schedule, ReadKeySchedule(storage));
  VX_ASSIGN_OR_RETURN(auto latest, storage.ReadCheckpoint());
  if (!latest || schedule.empty()) {
    return FailedPrecondition("the log has no checkpoint: nothing to export");
  }
  VX_ASSIGN_OR_RETURN(Checkpoint head, OpenCheckpoint(*latest, {schedule.back().second}));
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return FailedPrecondition("cannot create " + tmp + ": " + std::strerror(errno));
  Writer w(f);
  w.Write(std::string(kMagic) + "\n");
  w.Write("size " + std::to_string(head.size) + "\n");
  for (const auto& [from, key] : schedule) {
    w.Write("key " + std::to_string(from) + " " + key.ToText() + "\n");
  }
  WriteCheckpoint(w, head.size, *latest);

  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  size_t next_cp = 0;
  uint64_t cp_from = 1;
  uint64_t checkpoints_written = 0;
  Status status;
  for (Position p = 0; p < head.size && status.ok();) {
    auto records = storage.ReadRecords(p, std::min<Position>(4096, head.size - p), true);
    if (!records.ok()) {
      status = records.status();
      break;
    }
    if (records->empty()) {
      status = DataLoss("record " + std::to_string(p) + " is missing");
      break;
    }
    for (const StoredRecord& r : *records) {
      w.Write("leaf " + std::to_string(r.position) + " " +
              HexEncode(ByteView(r.key_id.data(), r.key_id.size())) + " " +
              Base64Encode(ByteView(r.signature.data(), r.signature.size())) + " " +
              Base64Encode(r.leaf) + "\n");
      const uint64_t size = r.position + 1;
      if (next_cp == checkpoints.size()) {
        auto page = storage.ReadCheckpoints(cp_from, 1024);
        if (!page.ok()) {
          status = page.status();
          break;
        }
        checkpoints = std::move(page).value();
        next_cp = 0;
        if (!checkpoints.empty()) cp_from = checkpoints.back().first + 1;
      }
      if (next_cp < checkpoints.size() && checkpoints[next_cp].first == size) {
        WriteCheckpoint(w, size, checkpoints[next_cp].second);
        ++next_cp;
        ++checkpoints_written;
      }
    }
    p = records->back().position + 1;
    if (progress) progress(p, head.size);
  }
  if (status.ok()) {
    w.Write("end " + std::to_string(head.size) + " " + std::to_string(checkpoints_written) + "\n");
    bool ok = w.ok() && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
    if (!ok) status = Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
  }
  std::fclose(f);
  if (status.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) {
    status = Unavailable("cannot rename " + tmp + ": " + std::strerror(errno));
  }
  if (!status.ok()) std::remove(tmp.c_str());
  return status;
}

ExportReader::~ExportReader() {
  if (file_ != nullptr) std::fclose(file_);
  std::free(buf_);  // getline's buffer
}

Result<bool> ExportReader::ReadLine(std::string& line) {
  if (has_pending_) {
    has_pending_ = false;
    line = std::move(pending_line_);
    return true;
  }
  ssize_t n = ::getline(&buf_, &cap_, file_);
  if (n < 0) {
    if (std::ferror(file_)) return Unavailable("read error in the export file");
    return false;
  }
  line.assign(buf_, static_cast<size_t>(n));
  ++line_no_;
  if (line.back() != '\n') {
    return DataLoss("export line " + std::to_string(line_no_) + ": no newline at the end");
  }
  line.pop_back();
  return true;
}

Result<std::string> ExportReader::ReadNote(const std::string& header_line) {
  auto parts = SplitSpaces(header_line);
  uint64_t size = 0, len = 0;
  if (parts.size() != 3 || !ParseU64(parts[1], &size) || !ParseU64(parts[2], &len) ||
      len > (1 << 20)) {
    return DataLoss("export line " + std::to_string(line_no_) +
                    ": expected \"checkpoint SIZE LENGTH\"");
  }
  std::string note(len, '\0');
  if (std::fread(note.data(), 1, len, file_) != len) {
    return DataLoss("export line " + std::to_string(line_no_) + ": checkpoint note cut short");
  }
  for (char c : note) line_no_ += c == '\n';
  checkpoints_.emplace_back(size, note);
  ++checkpoints_read_;
  return note;
}

Result<std::unique_ptr<ExportReader>> ExportReader::Open(const std::string& path) {
  std::unique_ptr<ExportReader> r(new ExportReader());
  r->file_ = std::fopen(path.c_str(), "rb");
  if (r->file_ == nullptr) {
    return FailedPrecondition("cannot open " + path + ": " + std::strerror(errno));
  }
  auto bad = [&](const std::string& what) {
    return DataLoss("export line " + std::to_string(r->line_no_) + ": " + what);
  };
  std::string line;
  VX_ASSIGN_OR_RETURN(bool got, r->ReadLine(line));
  if (!got || line != kMagic) return bad("not a vaxledger-export/v1 file");
  VX_ASSIGN_OR_RETURN(got, r->ReadLine(line));
  if (!got || !line.starts_with("size ") || !ParseU64(line.substr(5), &r->size_)) {
    return bad("expected \"size N\"");
  }
  while (true) {
    VX_ASSIGN_OR_RETURN(got, r->ReadLine(line));
    if (!got) return bad("the file ends in its header");
    if (!line.starts_with("key ")) break;
    auto parts = SplitSpaces(line);
    uint64_t from = 0;
    if (parts.size() != 3 || !ParseU64(parts[1], &from)) return bad("expected \"key INDEX VKEY\"");
    // Keys take over from one another at increasing indexes, the first at 0.
    if (r->keys_.empty() ? from != 0 : from <= r->keys_.back().first) {
      return bad("key lines must start at index 0 and go up");
    }
    auto key = NoteVerifierKey::Parse(parts[2]);
    if (!key.ok()) return bad(key.status().message());
    r->keys_.emplace_back(from, *key);
  }
  if (r->keys_.empty()) return bad("no key lines");
  if (!line.starts_with("checkpoint ")) return bad("expected the latest checkpoint");
  VX_ASSIGN_OR_RETURN(r->latest_, r->ReadNote(line));
  r->checkpoints_.clear();  // the latest is not part of the history that follows
  r->checkpoints_read_ = 0;
  return r;
}

Result<std::optional<std::string>> ExportReader::LatestCheckpoint() {
  return std::optional<std::string>(latest_);
}

Result<Position> ExportReader::RecordCount() { return size_; }

Result<LogStorage::RawScan> ExportReader::ScanRecords(Position from, size_t max) {
  LogStorage::RawScan scan;
  std::string line;
  Position p = from;
  while (true) {
    VX_ASSIGN_OR_RETURN(bool got, ReadLine(line));
    if (!got) break;
    if (line.starts_with("checkpoint ")) {
      VX_RETURN_IF_ERROR(ReadNote(line).status());
      continue;
    }
    if (p == from + max || !line.starts_with("leaf ")) {
      pending_line_ = std::move(line);  // the next range's first leaf, or the end line
      has_pending_ = true;
      break;
    }
    StoredRecord rec;
    rec.position = p;
    auto parts = SplitSpaces(line);
    uint64_t index = 0;
    bool ok = parts.size() == 5 && ParseU64(parts[1], &index) && index == p;
    if (ok) {
      auto id = HexDecode(parts[2]);
      auto sig = Base64Decode(parts[3]);
      auto leaf = Base64Decode(parts[4]);
      ok = id.ok() && id->size() == 4 && sig.ok() && sig->size() == 64 && leaf.ok();
      if (ok) {
        std::copy(id->begin(), id->end(), rec.key_id.begin());
        std::copy(sig->begin(), sig->end(), rec.signature.begin());
        rec.leaf = std::move(leaf).value();
      }
    }
    if (!ok) scan.malformed.push_back(p);
    scan.records.push_back(std::move(rec));
    ++leaves_read_;
    ++p;
  }
  return scan;
}

Result<std::vector<std::pair<uint64_t, std::string>>> ExportReader::CheckpointsBetween(
    uint64_t from, uint64_t to) {
  std::vector<std::pair<uint64_t, std::string>> out, rest;
  for (auto& c : checkpoints_) {
    if (c.first < from) continue;
    (c.first <= to ? out : rest).push_back(std::move(c));
  }
  checkpoints_ = std::move(rest);
  return out;
}

Status ExportReader::Finish() {
  std::string line;
  VX_ASSIGN_OR_RETURN(bool got, ReadLine(line));
  if (!got || !line.starts_with("end ")) {
    return DataLoss("export line " + std::to_string(line_no_) +
                    ": expected the end line after the last leaf");
  }
  const std::string expected =
      "end " + std::to_string(leaves_read_) + " " + std::to_string(checkpoints_read_);
  if (line != expected) {
    return DataLoss("export line " + std::to_string(line_no_) + ": the end line says \"" + line +
                    "\" but the file holds \"" + expected + "\"");
  }
  VX_ASSIGN_OR_RETURN(got, ReadLine(line));
  if (got) return DataLoss("export line " + std::to_string(line_no_) + ": text after the end line");
  return Status::Ok();
}

}  // namespace vaxledger::eventstore
