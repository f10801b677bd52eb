#include "eventstore/checkpoint_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/crypto.h"
#include "core/encoding.h"

namespace vaxledger::eventstore {
namespace {

constexpr char kMagic[4] = {'V', 'X', 'C', 'F'};
constexpr size_t kMaxNote = kCheckpointSlotBytes - kCheckpointSlotOverhead;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

uint64_t GetBig(const uint8_t* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void PutBig(uint8_t* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v & 0xff);
}

struct Slot {
  bool empty = true;  // all zero: never written
  bool valid = false;
  uint64_t seq = 0;
  std::string note;
};

Slot ParseSlot(const uint8_t* p) {
  Slot s;
  for (size_t i = 0; i < kCheckpointSlotBytes; ++i) {
    if (p[i] != 0) {
      s.empty = false;
      break;
    }
  }
  if (s.empty || std::memcmp(p, kMagic, 4) != 0) return s;
  const uint64_t length = GetBig(p + 12, 4);
  if (length > kMaxNote) return s;
  const size_t body = 16 + length;
  const Hash sum = Sha256(ByteView(p, body));
  if (std::memcmp(sum.data(), p + body, 32) != 0) return s;
  s.valid = true;
  s.seq = GetBig(p + 4, 8);
  s.note.assign(reinterpret_cast<const char*>(p + 16), length);
  return s;
}

Status SyncParent(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable(Errno("cannot open " + dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable(Errno("cannot sync " + dir));
  return Status::Ok();
}

}  // namespace

CheckpointFile::~CheckpointFile() { ::close(fd_); }

Result<std::optional<std::string>> CheckpointFile::ReadLatest(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<std::string>();
  if (fd < 0) return Unavailable(Errno("cannot open checkpoint file " + path));
  std::unique_ptr<CheckpointFile> file(new CheckpointFile(fd, path));
  VX_RETURN_IF_ERROR(file->Load());
  return file->latest_;
}

Status CheckpointFile::Load() {
  const std::string& path = path_;
  std::vector<uint8_t> bytes(2 * kCheckpointSlotBytes + 1);
  const ssize_t n = ::pread(fd_, bytes.data(), bytes.size(), 0);
  if (n < 0) return Unavailable(Errno("cannot read checkpoint file " + path));
  if (static_cast<size_t>(n) != 2 * kCheckpointSlotBytes) {
    return DataLoss("checkpoint file " + path + " is " + std::to_string(n) + " bytes, not " +
                    std::to_string(2 * kCheckpointSlotBytes));
  }
  const Slot slots[2] = {ParseSlot(bytes.data()), ParseSlot(bytes.data() + kCheckpointSlotBytes)};
  if (!slots[0].valid && !slots[1].valid && !(slots[0].empty && slots[1].empty)) {
    return DataLoss("checkpoint file " + path + " is damaged: neither slot is valid");
  }
  for (int i = 0; i < 2; ++i) {
    if (slots[i].valid && slots[i].seq > seq_) {
      seq_ = slots[i].seq;
      newest_ = i;
      latest_ = slots[i].note;
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<CheckpointFile>> CheckpointFile::Open(const std::string& path, bool create) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    if (!create) {
      return FailedPrecondition("checkpoint file " + path + " is missing");
    }
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Unavailable(Errno("cannot create checkpoint file " + path));
    std::vector<uint8_t> zeros(2 * kCheckpointSlotBytes, 0);
    const bool ok =
        ::pwrite(fd, zeros.data(), zeros.size(), 0) == static_cast<ssize_t>(zeros.size()) &&
        ::fsync(fd) == 0;
    if (!ok) {
      Status s = Unavailable(Errno("cannot write checkpoint file " + path));
      ::close(fd);
      ::unlink(path.c_str());
      return s;
    }
    if (Status s = SyncParent(path); !s.ok()) {
      ::close(fd);
      return s;
    }
  } else if (fd < 0) {
    return Unavailable(Errno("cannot open checkpoint file " + path));
  }
  std::unique_ptr<CheckpointFile> file(new CheckpointFile(fd, path));
  VX_RETURN_IF_ERROR(file->Load());
  return file;
}

Status CheckpointFile::Write(std::string_view note) {
  if (note.size() > kMaxNote) {
    return InvalidArgument("checkpoint: " + std::to_string(note.size()) +
                               " bytes, more than a slot holds (" + std::to_string(kMaxNote) + ")",
                           "checkpoint");
  }
  std::vector<uint8_t> slot(kCheckpointSlotBytes, 0);
  std::memcpy(slot.data(), kMagic, 4);
  PutBig(slot.data() + 4, seq_ + 1, 8);
  PutBig(slot.data() + 12, note.size(), 4);
  std::memcpy(slot.data() + 16, note.data(), note.size());
  const Hash sum = Sha256(ByteView(slot.data(), 16 + note.size()));
  std::memcpy(slot.data() + 16 + note.size(), sum.data(), 32);
  const int target = 1 - newest_;
  const off_t offset = static_cast<off_t>(target) * kCheckpointSlotBytes;
  if (::pwrite(fd_, slot.data(), slot.size(), offset) != static_cast<ssize_t>(slot.size())) {
    return Unavailable(Errno("cannot write checkpoint file " + path_));
  }
  if (::fdatasync(fd_) != 0) return Unavailable(Errno("cannot sync checkpoint file " + path_));
  ++seq_;
  newest_ = target;
  latest_ = std::string(note);
  return Status::Ok();
}

}  // namespace vaxledger::eventstore
