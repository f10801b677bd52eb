#include "eventstore/registry_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace vaxledger::eventstore {
namespace {

std::string Errno() { return std::strerror(errno); }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Status CreateSecretFile(const std::string& path, const std::string& what, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status(Code::kAlreadyExists, what + " " + path + " already exists");
    return FailedPrecondition("cannot create " + what + " " + path + ": " + Errno());
  }
  const std::string line = text + "\n";
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  std::string err = ok ? "" : Errno();
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return FailedPrecondition("cannot write " + what + " " + path + ": " + err);
  }
  return Status::Ok();
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return FailedPrecondition(what + " " + path +
                                " is missing: run `vaxledger init` or restore it from backup");
    }
    return FailedPrecondition(what + " " + path + " cannot be read: " + Errno());
  }
  if (!S_ISREG(st.st_mode)) return FailedPrecondition(what + " " + path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition(what + " " + path + " has mode " + OctalMode(st.st_mode) +
                              ", open to group or others: run `chmod 600 " + path + "`");
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FailedPrecondition(what + " " + path + " cannot be read: " + Errno());
  std::string text(512, '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  std::string err = n < 0 ? Errno() : "";
  ::close(fd);
  if (n < 0) return FailedPrecondition(what + " " + path + " cannot be read: " + err);
  text.resize(static_cast<size_t>(n));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

Result<NoteSigner> CreateRegistryKey(const std::string& path, const std::string& name) {
  VX_RETURN_IF_ERROR(ValidateKeyName(name));
  NoteSigner signer(name, Ed25519Key::Generate());
  VX_RETURN_IF_ERROR(CreateSecretFile(path, "registry key", signer.ToPrivateText()));
  return signer;
}

Result<NoteSigner> LoadRegistryKey(const std::string& path) {
  VX_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path, "registry key"));
  auto signer = NoteSigner::Parse(text);
  if (!signer.ok()) {
    return FailedPrecondition("registry key " + path +
                              " is not a valid key: " + signer.status().message());
  }
  return signer;
}

}  // namespace vaxledger::eventstore
