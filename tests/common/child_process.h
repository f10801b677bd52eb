// A child process for tests that run a real program: its stdout comes back through a pipe, and
// it is killed (SIGKILL) and reaped when the object goes, unless the test waited for it.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vaxledger::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`; the child's stdout is the pipe read by `out()`.
  explicit ChildProcess(const std::vector<std::string>& argv) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~ChildProcess() {
    if (out_ >= 0) ::close(out_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The read end of the child's stdout. Owned here unless taken with TakeOut.
  int out() const { return out_; }
  int TakeOut() {
    int fd = out_;
    out_ = -1;
    return fd;
  }

  // Sends `signal` and waits; returns the wait status. The child is gone afterwards.
  int SignalAndWait(int signal) {
    REQUIRE(::kill(pid_, signal) == 0);
    return Wait();
  }
  int Wait() {
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

}  // namespace vaxledger::testing
