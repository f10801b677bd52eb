// Certificates issued per second over HTTP (issue 10), against OpenSSL's own ECDSA P-256
// signing rate measured in the same run (ES256 signing is the ceiling of issuing).
//
//   build/bench/certificate_bench --vaxledger build/tools/vaxledger [--seconds 5] [--clients 8]
//                                 [--patients 512]
//
// It makes a demo data directory, starts `vaxledger serve --demo` on a loopback port, logs in
// as a demo physician, registers one COVID-19 dose for each of P patients, then C clients on
// keep-alive connections POST /v1/patients/{id}/certificates for S seconds (each certificate is
// signed, appended durably as certificate.issued, and answered). Baselines, one core each:
// OpenSSL's EVP_DigestSign with a P-256 key over a message of a certificate's size (our
// DocumentSigner), and `openssl speed -seconds 3 ecdsap256`'s own line.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/certificate/x509_signer.h"

namespace vaxledger::bench {
namespace {

namespace http = boost::beast::http;
using nlohmann::json;

class Client {
 public:
  explicit Client(uint16_t port) : stream_(ioc_) {
    stream_.connect(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }
  std::pair<int, std::string> Send(const std::string& method, const std::string& target,
                                   const std::string& body = {}) {
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token_.empty()) req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream_, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream_, buffer, res);
    return {static_cast<int>(res.result_int()), res.body()};
  }
  void set_token(std::string t) { token_ = std::move(t); }

 private:
  boost::asio::io_context ioc_;
  boost::beast::tcp_stream stream_;
  std::string token_;
};

std::string Arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == name) return argv[i + 1];
  }
  return def;
}

// Spawns argv with stdout to a pipe; returns (pid, read end).
std::pair<pid_t, int> Spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

double EcdsaRate(double seconds) {
  auto keys = certificate::CreateSigningKeys();
  auto signer = certificate::DocumentSigner::Load(keys->dsc_certificate_pem, keys->dsc_key_pem);
  Bytes msg(330, 0x5a);  // about a Sig_structure's size
  uint64_t n = 0;
  const auto start = Clock::now();
  while (Seconds(Clock::now() - start) < seconds) {
    for (int i = 0; i < 64; ++i) {
      auto sig = signer->SignEs256(msg);
      msg[0] ^= (*sig)[0];
      ++n;
    }
  }
  return n / Seconds(Clock::now() - start);
}

std::string OpensslSpeed() {
  FILE* p = ::popen("openssl speed -seconds 3 ecdsap256 2>/dev/null | grep '256 bits ecdsa'", "r");
  if (p == nullptr) return "(openssl speed did not run)";
  char line[512] = {0};
  std::string out = std::fgets(line, sizeof line, p) ? line : "(no output)";
  ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int Main(int argc, char** argv) {
  const std::string bin = Arg(argc, argv, "--vaxledger", "build/tools/vaxledger");
  const double seconds = std::stod(Arg(argc, argv, "--seconds", "5"));
  const int clients = std::stoi(Arg(argc, argv, "--clients", "8"));
  char tmpl[] = "/tmp/vaxledger-cert-bench-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string data = dir + "/d";
  {
    auto [pid, out] = Spawn({bin, "init", "--data", data, "--demo"});
    char buf[4096];
    while (::read(out, buf, sizeof buf) > 0) {
    }
    ::close(out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "init failed\n");
      return 2;
    }
  }
  auto [server, out] = Spawn({bin, "serve", "--data", data, "--listen", "127.0.0.1:0", "--demo"});
  std::string line;
  char c;
  while (::read(out, &c, 1) == 1 && c != '\n') line += c;
  const size_t at = line.find("127.0.0.1:");
  if (at == std::string::npos) {
    std::fprintf(stderr, "the server did not start: %s\n", line.c_str());
    return 2;
  }
  const auto port = static_cast<uint16_t>(std::stoi(line.substr(at + 10)));
  // Drain the server's stdout (the demo listing) so that it never blocks on a full pipe.
  std::thread drain([fd = out] {
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
  });

  const int patients = std::stoi(Arg(argc, argv, "--patients", "512"));
  std::string token;
  std::vector<std::string> patient_ids;
  {
    Client c0(port);
    const json people = json::parse(c0.Send("GET", "/v1/demo/people").second);
    std::string insz;
    for (const auto& p : people["people"]) {
      if (p["name"] == "Dr. Els Peeters") insz = p["insz"];
    }
    const json a =
        json::parse(c0.Send("POST", "/v1/demo/assertion", json{{"insz", insz}}.dump()).second);
    const json s = json::parse(
        c0.Send("POST", "/v1/sessions", json{{"assertion", a["assertion"]}}.dump()).second);
    token = s["token"];
    c0.set_token(token);
    // One COVID-19 dose for each of `patients` patients, so that clients spread their
    // certificates over many patient streams (as a registry's would be).
    for (int i = 0; i < patients; ++i) {
      std::string serial = std::to_string(i % 997 + 1);
      serial.insert(0, 3 - serial.size(), '0');
      const std::string first9 = "850101" + serial;
      std::string check = std::to_string(97 - std::stoll(first9) % 97);
      if (check.size() < 2) check.insert(0, "0");
      const std::string insz = first9 + check;
      const json dose = {{"patient", {{"insz", insz}}},
                         {"product", "EU/1/20/1528"},
                         {"lot", "FK5127"},
                         {"dose", 2},
                         {"date", "2026-11-20"},
                         {"consent", {{"decision", "given"}, {"date", "2026-11-20"}}}};
      c0.Send("POST", "/v1/vaccinations", dose.dump());
      const json found =
          json::parse(c0.Send("POST", "/v1/patients/search", json{{"insz", insz}}.dump()).second,
                      nullptr, false);
      if (!found.is_object() || !found.contains("id")) {
        std::fprintf(stderr, "patient %s was not registered\n", insz.c_str());
        ::kill(server, SIGTERM);
        drain.detach();
        return 2;
      }
      patient_ids.push_back(found["id"]);
    }
  }
  const std::string body =
      json{{"family_name", "Peeters-Van Damme"}, {"given_name", "Marie Louise"}}.dump();

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, refused{0};
  std::mutex mu;
  std::vector<double> latencies;
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      Client client(port);
      size_t next = static_cast<size_t>(i);
      client.set_token(token);
      std::vector<double> mine;
      while (!stop.load()) {
        const auto t0 = Clock::now();
        const std::string& patient = patient_ids[next % patient_ids.size()];
        next += static_cast<size_t>(clients);
        const auto [status, text] =
            client.Send("POST", "/v1/patients/" + patient + "/certificates", body);
        mine.push_back(Seconds(Clock::now() - t0) * 1000);
        (status == 201 ? ok : refused)++;
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = Seconds(Clock::now() - start);
  ::kill(server, SIGTERM);
  int status = 0;
  ::waitpid(server, &status, 0);
  drain.join();
  std::filesystem::remove_all(dir);

  const double rate = ok / elapsed;
  const double baseline = EcdsaRate(2.0);
  std::printf("baseline: OpenSSL ECDSA P-256 (EVP_DigestSign, one core): %.0f signatures/s\n",
              baseline);
  std::printf("openssl speed: %s\n", OpensslSpeed().c_str());
  std::printf("clients  certificates/s  p50 ms  p99 ms  x sign rate  issued  refused\n");
  std::printf("%-8d %14.0f %7.2f %7.2f %12.3f %7llu %8llu\n", clients, rate,
              Percentile(latencies, 50), Percentile(latencies, 99), rate / baseline,
              static_cast<unsigned long long>(ok.load()),
              static_cast<unsigned long long>(refused.load()));
  return refused.load() == 0 && ok.load() > 0 ? 0 : 1;
}

}  // namespace
}  // namespace vaxledger::bench

int main(int argc, char** argv) { return vaxledger::bench::Main(argc, argv); }
