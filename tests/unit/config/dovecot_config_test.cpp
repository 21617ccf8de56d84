// [auth] backend / dovecot_auth_socket and [delivery] local (SPEC §1.12):
// loading, the errors with file:line, and the `postern check` lints on the
// sockets.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "config/config.hpp"
#include "config/local_target.hpp"
#include "tools/temp_dir.hpp"

namespace postern::config {
namespace {

using postern::testing::TempDir;

const std::string kBase =
    "hostname = \"mail.example.com\"\n"
    "data_dir = \"data\"\n"
    "local_domains = [\"example.com\"]\n"
    "[[listener]]\naddress = \"127.0.0.1:25\"\nrole = \"relay\"\ntls = \"none\"\n";

// A listening UNIX socket at `path` for as long as it lives.
class UnixSocket {
 public:
  explicit UnixSocket(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~UnixSocket() { ::close(fd_); }

 private:
  int fd_ = -1;
};

std::string problems_about(const std::vector<Problem>& ps, std::string_view needle) {
  std::string out;
  for (const auto& p : ps) {
    const std::string line = p.where + ": " +
                             (p.severity == Problem::Severity::error ? "error: " : "warning: ") +
                             p.message + " | fix: " + p.fix + "\n";
    if (line.find(needle) != std::string::npos) out += line;
  }
  return out;
}

TEST(LocalTarget, Forms) {
  std::string why;
  auto m = parse_local_target("maildir", why);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, LocalTarget::Kind::maildir);
  auto u = parse_local_target("lmtp:unix:/run/dovecot/lmtp", why);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->kind, LocalTarget::Kind::lmtp_unix);
  EXPECT_EQ(u->socket, "/run/dovecot/lmtp");
  EXPECT_EQ(u->text(), "lmtp:unix:/run/dovecot/lmtp");
  auto t = parse_local_target("lmtp:127.0.0.1:24", why);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->kind, LocalTarget::Kind::lmtp_tcp);
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 24);
  auto v6 = parse_local_target("lmtp:[::1]:24", why);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->text(), "lmtp:[::1]:24");
  for (const char* bad : {"", "Maildir", "lmtp", "lmtp:", "lmtp:unix:", "lmtp:host", "lmtp:host:0",
                          "lmtp:host:99999", "smtp:127.0.0.1:25"}) {
    EXPECT_FALSE(parse_local_target(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

TEST(DovecotConfig, DefaultsAreFileAndMaildir) {
  TempDir dir;
  auto r = load_string(kBase, "postern.toml", dir.path());
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->auth.backend, "file");
  EXPECT_EQ(r.config->delivery.local, "maildir");
}

TEST(DovecotConfig, LoadsAndResolvesPaths) {
  TempDir dir;
  auto r = load_string(kBase +
                           "[auth]\nbackend = \"dovecot\"\n"
                           "dovecot_auth_socket = \"run/auth-client\"\n"
                           "[delivery]\nlocal = \"lmtp:unix:run/lmtp\"\n",
                       "postern.toml", dir.path());
  ASSERT_TRUE(r.config) << problems_about(r.problems, "");
  EXPECT_EQ(r.config->auth.backend, "dovecot");
  EXPECT_EQ(r.config->auth.dovecot_auth_socket, dir.path() / "run/auth-client");
  EXPECT_EQ(r.config->delivery.local, "lmtp:unix:" + (dir.path() / "run/lmtp").string());
}

TEST(DovecotConfig, BackendDovecotWithoutSocketIsAnError) {
  TempDir dir;
  auto r = load_string(kBase + "[auth]\nbackend = \"dovecot\"\n", "postern.toml", dir.path());
  EXPECT_FALSE(r.config);
  const std::string p = problems_about(r.problems, "dovecot_auth_socket");
  EXPECT_NE(p.find("postern.toml:9: error:"), std::string::npos) << p;
}

TEST(DovecotConfig, UnknownBackendAndBadLocalAreErrorsWithLines) {
  TempDir dir;
  auto r = load_string(kBase + "[auth]\nbackend = \"ldap\"\n[delivery]\nlocal = \"lmtp:nowhere\"\n",
                       "postern.toml", dir.path());
  EXPECT_FALSE(r.config);
  EXPECT_NE(problems_about(r.problems, "postern.toml:9").find("backend"), std::string::npos)
      << problems_about(r.problems, "");
  const std::string local = problems_about(r.problems, "delivery.local");
  EXPECT_NE(local.find("postern.toml:11: error:"), std::string::npos) << local;
  EXPECT_NE(local.find("lmtp:unix:/run/dovecot/lmtp"), std::string::npos) << local;
}

TEST(DovecotLint, MissingSocketsWarnNotASocketIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir / "run");
  dir.write("run/lmtp", "not a socket");
  auto r = load_string(kBase +
                           "[auth]\nbackend = \"dovecot\"\n"
                           "dovecot_auth_socket = \"run/auth-client\"\n"
                           "[delivery]\nlocal = \"lmtp:unix:run/lmtp\"\n",
                       "postern.toml", dir.path());
  ASSERT_TRUE(r.config);
  const auto problems = lint(*r.config);
  const std::string auth = problems_about(problems, "auth-client");
  EXPECT_NE(auth.find("postern.toml:10: warning: Dovecot auth socket"), std::string::npos) << auth;
  EXPECT_NE(auth.find("454"), std::string::npos) << auth;
  const std::string userdb = problems_about(problems, "auth-userdb");
  EXPECT_NE(userdb.find("warning"), std::string::npos) << userdb;
  EXPECT_NE(userdb.find("451"), std::string::npos) << userdb;
  const std::string lmtp = problems_about(problems, "LMTP socket");
  EXPECT_NE(lmtp.find("postern.toml:12: error:"), std::string::npos) << lmtp;
  EXPECT_NE(lmtp.find("is not a socket"), std::string::npos) << lmtp;
}

TEST(DovecotLint, RealSocketsAreQuiet) {
  TempDir dir;
  std::filesystem::create_directories(dir / "run");
  UnixSocket auth(dir / "run/auth-client");
  UnixSocket userdb(dir / "run/auth-userdb");
  UnixSocket lmtp(dir / "run/lmtp");
  auto r = load_string(kBase +
                           "[auth]\nbackend = \"dovecot\"\n"
                           "dovecot_auth_socket = \"run/auth-client\"\n"
                           "[delivery]\nlocal = \"lmtp:unix:run/lmtp\"\n",
                       "postern.toml", dir.path());
  ASSERT_TRUE(r.config);
  const auto problems = lint(*r.config);
  EXPECT_EQ(problems_about(problems, "socket"), "");
}

}  // namespace
}  // namespace postern::config
