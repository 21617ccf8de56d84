// Authenticated submission load, the same dialogue as auth_client.py but
// without Python: `--clients` processes, each sending its share of
// `--messages`, every message on a new TCP connection with EHLO, STARTTLS
// (a full TLS handshake: no session is kept or offered for resumption),
// EHLO, AUTH PLAIN, MAIL, RCPT, DATA (4 KiB), QUIT, one command at a time
// and each reply read before the next command, as smtplib does. The
// server's certificate is verified against --cafile (hostnames are not
// checked, as in auth_client.py). Prints one JSON line:
// {"seconds": s, "sent": n, "errors": [...]}.
//
// Why: on the 2-core bench machine the Python client cost about twice the
// server's CPU per message (bench/README.md, authenticated submission), so
// the row measured the client. The same client drives both servers.
//
// Built by bench/run.sh: g++ -O2 -std=c++20 auth_client.cpp -lssl -lcrypto
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Args {
  std::string host = "127.0.0.1";
  int port = 0;
  int clients = 10;
  int messages = 0;
  std::string user, password, sender, rcpt, cafile;
  int timeout = 60;
};

// One connection: plain until STARTTLS, then through `ssl`.
class Conn {
 public:
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
  }

  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const int n = ssl_ ? SSL_write(ssl_, s.data() + off, static_cast<int>(s.size() - off))
                         : static_cast<int>(::send(fd_, s.data() + off, s.size() - off, 0));
      if (n <= 0) return fail("write failed");
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  // Reads one (multi-line) reply; true when its code is `want`.
  bool expect(int want) {
    for (;;) {
      const auto eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        const std::string line = buf_.substr(0, eol);
        buf_.erase(0, eol + 2);
        if (line.size() < 3) return fail("short reply line");
        if (line.size() > 3 && line[3] == '-') continue;
        if (std::atoi(line.substr(0, 3).c_str()) != want) return fail("unexpected reply: " + line);
        return true;
      }
      char tmp[4096];
      const int n = ssl_ ? SSL_read(ssl_, tmp, sizeof tmp)
                         : static_cast<int>(::recv(fd_, tmp, sizeof tmp, 0));
      if (n <= 0) return fail("connection closed or timed out while waiting for a reply");
      buf_.append(tmp, static_cast<std::size_t>(n));
    }
  }

  bool command(const std::string& line, int want) { return send(line + "\r\n") && expect(want); }

  bool starttls(SSL_CTX* ctx) {
    if (!buf_.empty()) return fail("data after the 220 to STARTTLS");
    ssl_ = SSL_new(ctx);
    if (!ssl_ || SSL_set_fd(ssl_, fd_) != 1) return fail("SSL_new failed");
    if (SSL_connect(ssl_) != 1) {
      char e[256];
      ERR_error_string_n(ERR_get_error(), e, sizeof e);
      return fail(std::string("TLS handshake failed: ") + e);
    }
    return true;
  }

  void quit() {
    if (ssl_) SSL_shutdown(ssl_);
  }

  const std::string& error() const { return error_; }

 private:
  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }
  int fd_;
  SSL* ssl_ = nullptr;
  std::string buf_;
  std::string error_;
};

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

int connect_to(const Args& a) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{a.timeout, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as smtplib's socket
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(a.port));
  if (inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr) != 1 ||
      connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One message on its own connection; empty on success, else the reason.
std::string send_one(const Args& a, SSL_CTX* ctx, const std::string& auth,
                     const std::string& body) {
  const int fd = connect_to(a);
  if (fd < 0) return std::string("connect: ") + std::strerror(errno);
  Conn c(fd);
  const bool ok =
      c.expect(220) && c.command("EHLO bench.client.test", 250) && c.command("STARTTLS", 220) &&
      c.starttls(ctx) && c.command("EHLO bench.client.test", 250) &&
      c.command("AUTH PLAIN " + auth, 235) && c.command("MAIL FROM:<" + a.sender + ">", 250) &&
      c.command("RCPT TO:<" + a.rcpt + ">", 250) && c.command("DATA", 354) && c.send(body) &&
      c.expect(250) && c.command("QUIT", 221);
  if (ok) c.quit();
  return ok ? std::string() : c.error();
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (const char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) continue;
    out += ch;
  }
  return out;
}

// A worker: sends `count` messages, writes "sent\terror\n" to `out`.
void worker(const Args& a, int count, int out) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  // A full handshake per connection, as auth_client.py's smtplib does.
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  if (SSL_CTX_load_verify_locations(ctx, a.cafile.c_str(), nullptr) != 1) {
    dprintf(out, "0\tcannot read %s\n", a.cafile.c_str());
    _exit(1);
  }
  const std::string auth =
      base64(std::string("\0", 1) + a.user + std::string("\0", 1) + a.password);
  std::string body = "From: " + a.sender + "\r\nTo: " + a.rcpt + "\r\nSubject: bench\r\n\r\n";
  for (int i = 0; i < 52; ++i) body += std::string(76, 'x') + "\r\n";
  body += ".\r\n";
  int sent = 0;
  std::string first_error;
  for (int i = 0; i < count; ++i) {
    const std::string e = send_one(a, ctx, auth, body);
    if (e.empty()) {
      ++sent;
    } else if (first_error.empty()) {
      first_error = e.substr(0, 200);
    }
  }
  dprintf(out, "%d\t%s\n", sent, json_escape(first_error).c_str());
  SSL_CTX_free(ctx);
  _exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      a.host = v;
    else if (k == "--port")
      a.port = std::atoi(v.c_str());
    else if (k == "--clients")
      a.clients = std::atoi(v.c_str());
    else if (k == "--messages")
      a.messages = std::atoi(v.c_str());
    else if (k == "--user")
      a.user = v;
    else if (k == "--password")
      a.password = v;
    else if (k == "--sender")
      a.sender = v;
    else if (k == "--rcpt")
      a.rcpt = v;
    else if (k == "--cafile")
      a.cafile = v;
    else if (k == "--timeout")
      a.timeout = std::atoi(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (a.port <= 0 || a.messages <= 0 || a.clients <= 0 || a.cafile.empty()) {
    std::fprintf(stderr,
                 "usage: auth_client --port P --messages N [--clients C] --user U --password W "
                 "--sender S --rcpt R --cafile F\n");
    return 2;
  }
  int fds[2];
  if (pipe(fds) != 0) return 1;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < a.clients; ++i) {
    const int share = a.messages / a.clients + (i < a.messages % a.clients ? 1 : 0);
    const pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      worker(a, share, fds[1]);
    }
    if (pid > 0) pids.push_back(pid);
  }
  close(fds[1]);
  // Each worker writes one short line (< PIPE_BUF, so lines do not mix).
  std::string results;
  char tmp[4096];
  for (ssize_t n; (n = read(fds[0], tmp, sizeof tmp)) > 0;) results.append(tmp, n);
  for (const pid_t pid : pids) waitpid(pid, nullptr, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  int sent = 0;
  std::vector<std::string> errors;
  for (std::size_t pos = 0; pos < results.size();) {
    auto eol = results.find('\n', pos);
    if (eol == std::string::npos) eol = results.size();
    const std::string line = results.substr(pos, eol - pos);
    pos = eol + 1;
    const auto tab = line.find('\t');
    sent += std::atoi(line.substr(0, tab).c_str());
    if (tab != std::string::npos && tab + 1 < line.size()) errors.push_back(line.substr(tab + 1));
  }
  std::printf("{\"seconds\": %.6f, \"sent\": %d, \"errors\": [", seconds, sent);
  for (std::size_t i = 0; i < errors.size() && i < 5; ++i) {
    std::printf("%s\"%s\"", i ? ", " : "", errors[i].c_str());
  }
  std::printf("]}\n");
  return 0;
}
