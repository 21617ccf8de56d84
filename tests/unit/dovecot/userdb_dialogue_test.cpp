// The auth-master USER lookup as scripted exchanges (server lines as a real
// Dovecot 2.3.19 sent them), split at every byte and cut at every byte.
#include "dovecot/userdb_dialogue.hpp"

#include <gtest/gtest.h>

namespace postern::dovecot {
namespace {

const std::string kHello = "VERSION\t1\t1\nSPID\t20557\n";

struct Exchange {
  std::string sent;
  UserVerdict verdict = UserVerdict::pending;
  std::string reason;
};

Exchange run(const std::string& server, std::vector<std::size_t> cuts = {}, bool close = false) {
  UserdbDialogue d("carol@example.test", 1);
  Exchange r;
  r.sent = d.take_output();
  std::size_t at = 0;
  cuts.push_back(server.size());
  for (std::size_t cut : cuts) {
    d.feed(std::string_view(server).substr(at, cut - at));
    r.sent += d.take_output();
    at = cut;
  }
  if (close) d.peer_closed();
  r.verdict = d.verdict();
  r.reason = d.reason();
  return r;
}

TEST(UserdbDialogue, Request) {
  EXPECT_EQ(run("").sent, "VERSION\t1\t0\nUSER\t1\tcarol@example.test\tservice=smtp\n");
}

TEST(UserdbDialogue, Answers) {
  EXPECT_EQ(run(kHello + "USER\t1\tcarol@example.test\t\n").verdict, UserVerdict::exists);
  EXPECT_EQ(run(kHello + "USER\t1\tcarol@example.test\thome=/h\tuid=8\n").verdict,
            UserVerdict::exists);
  EXPECT_EQ(run(kHello + "NOTFOUND\t1\n").verdict, UserVerdict::not_found);
  const Exchange fail = run(kHello + "FAIL\t1\treason=ldap down\n");
  EXPECT_EQ(fail.verdict, UserVerdict::temporary);
  EXPECT_EQ(fail.reason, "ldap down");
}

TEST(UserdbDialogue, OtherIdsIgnored) {
  EXPECT_EQ(run(kHello + "NOTFOUND\t2\nUSER\t1\tc\n").verdict, UserVerdict::exists);
}

TEST(UserdbDialogue, NotDovecotIsTemporary) {
  EXPECT_EQ(run("220 smtp ready\r\n").verdict, UserVerdict::temporary);
  EXPECT_EQ(run("VERSION\t2\t0\n").verdict, UserVerdict::temporary);
  EXPECT_EQ(run(std::string(LineReader::kMaxLine + 1, 'V')).verdict, UserVerdict::temporary);
}

TEST(UserdbDialogue, SplitAtEveryByte) {
  for (const std::string& server : {kHello + "USER\t1\tcarol@example.test\t\n",
                                    kHello + "NOTFOUND\t1\n", kHello + "FAIL\t1\treason=x\n"}) {
    const Exchange whole = run(server);
    for (std::size_t cut = 0; cut <= server.size(); ++cut) {
      const Exchange split = run(server, {cut});
      EXPECT_EQ(split.verdict, whole.verdict) << cut;
      EXPECT_EQ(split.sent, whole.sent) << cut;
    }
  }
}

// Dovecot vanishing at any byte is "temporary" (451), never "not found"
// (which would be a wrong 550).
TEST(UserdbDialogue, ConnectionLostAtEveryStep) {
  for (const std::string& server :
       {kHello + "USER\t1\tcarol@example.test\t\n", kHello + "NOTFOUND\t1\n"}) {
    for (std::size_t len = 0; len < server.size(); ++len) {
      EXPECT_EQ(run(server.substr(0, len), {}, true).verdict, UserVerdict::temporary) << len;
    }
    EXPECT_NE(run(server, {}, true).verdict, UserVerdict::temporary);
  }
}

}  // namespace
}  // namespace postern::dovecot
