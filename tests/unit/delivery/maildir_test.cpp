#include "delivery/maildir.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "unit/spool/spool_test_util.hpp"

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;
using postern::spool::testing::files_in;
using postern::spool::testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(MaildirFor, LowercasesTheDomainAndKeepsTheLocalPart) {
  EXPECT_EQ(maildir_for("/var/mail", "Alice@Example.COM"), fs::path("/var/mail/example.com/Alice"));
  EXPECT_EQ(maildir_for("/m", "a.b+tag@x.org"), fs::path("/m/x.org/a.b+tag"));
  // The last '@' separates the domain (a quoted local part may hold '@').
  EXPECT_EQ(maildir_for("/m", "\"a@b\"@x.org"), fs::path("/m/x.org/\"a@b\""));
}

TEST(MaildirFor, RefusesAnythingThatCouldLeaveTheFolder) {
  for (const char* bad :
       {"", "alice", "@example.com", "alice@", "../x@example.com", "..@example.com",
        ".@example.com", ".hidden@example.com", "a/b@example.com", "alice@../etc", "alice@a/b",
        "alice@.example.com", "al\nice@example.com", "al\rice@example.com",
        "al\x7f"
        "ice@example.com",
        "alice@exam\tple.com"}) {
    EXPECT_TRUE(maildir_for("/m", bad).empty()) << bad;
  }
  EXPECT_TRUE(maildir_for("/m", std::string("al\0ice@example.com", 18)).empty());
  EXPECT_TRUE(maildir_for("/m", std::string(300, 'a') + "@example.com").empty());
}

TEST(Maildir, DeliversIntoNewWithTraceHeadersAndLfLineEnds) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  const MaildirResult r = deliver_to_maildir(box, "bob@example.org", "alice@example.com",
                                             "Subject: hi\r\n\r\nline one\r\nline\rtwo\r\n");
  ASSERT_FALSE(r.error) << r.error.message();
  for (const char* sub : {"cur", "new", "tmp"}) {
    struct stat st {};
    ASSERT_EQ(::stat((box / sub).c_str(), &st), 0) << sub;
    EXPECT_EQ(st.st_mode & 0777, 0700U) << sub;
  }
  EXPECT_EQ(r.file.parent_path(), box / "new");
  EXPECT_TRUE(files_in(box / "tmp").empty());
  const std::string content = slurp(r.file);
  // A bare CR is not a line end and is kept as it is.
  EXPECT_EQ(content,
            "Return-Path: <bob@example.org>\nDelivered-To: alice@example.com\n"
            "Subject: hi\n\nline one\nline\rtwo\n");
  // time.M<usec>P<pid>Q<counter>.<host>,S=<size>
  const std::string name = r.file.filename().string();
  std::smatch m;
  ASSERT_TRUE(std::regex_match(name, m, std::regex(R"(\d+\.M\d+P\d+Q\d+\.[^/:]+,S=(\d+))")))
      << name;
  EXPECT_EQ(std::stoul(m[1]), content.size());
}

TEST(Maildir, NullSenderAndHeaderInjectionAreHandled) {
  TempDir dir;
  const MaildirResult r =
      deliver_to_maildir(dir.path() / "box", "", "a@example.com\r\nBcc: evil", "body\r\n");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(slurp(r.file), "Return-Path: <>\nDelivered-To: a@example.comBcc: evil\nbody\n");
}

TEST(Maildir, NamesAreUniqueUnderConcurrency) {
  TempDir dir;
  const fs::path box = dir.path() / "box";
  std::mutex mu;
  std::set<std::string> names;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        const MaildirResult r = deliver_to_maildir(box, "a@b", "c@d", "x\r\n");
        ASSERT_FALSE(r.error);
        std::lock_guard lock(mu);
        EXPECT_TRUE(names.insert(r.file.filename().string()).second);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(names.size(), 200U);
  EXPECT_EQ(files_in(box / "new").size(), 200U);
}

TEST(Maildir, ErrorsAreReturnedNotThrown) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  const MaildirResult r = deliver_to_maildir(dir.path() / "file" / "box", "a@b", "c@d", "x");
  EXPECT_EQ(r.error, std::errc::not_a_directory);
  EXPECT_TRUE(r.file.empty());
  EXPECT_EQ(deliver_to_maildir({}, "a@b", "c@d", "x").error, std::errc::invalid_argument);
}

}  // namespace
}  // namespace postern::delivery

namespace postern::delivery {
namespace {

namespace fs = std::filesystem;
using postern::spool::testing::files_in;
using postern::spool::testing::TempDir;

// Dovecot's Maildir++ Junk folder: .Junk with cur/new/tmp and the
// maildirfolder marker, made once and reused.
TEST(JunkFolder, IsMadeInsideTheMailbox) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  std::error_code ec;
  const fs::path junk = junk_folder(box, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(junk, box / ".Junk");
  for (const char* sub : {"cur", "new", "tmp"}) EXPECT_TRUE(fs::is_directory(junk / sub)) << sub;
  EXPECT_TRUE(fs::exists(junk / "maildirfolder"));
  EXPECT_EQ(junk_folder(box, ec), junk);
  EXPECT_FALSE(ec);
  const MaildirResult m = deliver_once_to_maildir(junk, "1.x_0.host", false, "b@x", "a@y", "x\r\n");
  ASSERT_FALSE(m.error);
  EXPECT_EQ(m.file.parent_path(), box / ".Junk" / "new");
  EXPECT_TRUE(junk_folder({}, ec).empty());
  EXPECT_TRUE(ec);
}

TEST(MaildirOnce, TheSameNameIsDeliveredOnce) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  const std::string unique = maildir_unique_name(1700000000, "1K0WXN8HW9S00VBP", 3);
  EXPECT_TRUE(unique.starts_with("1700000000.1K0WXN8HW9S00VBP_3."));
  const MaildirResult first =
      deliver_once_to_maildir(box, unique, false, "bob@example.org", "alice@example.com", "x\r\n");
  ASSERT_FALSE(first.error) << first.error.message();
  EXPECT_FALSE(first.already);
  EXPECT_EQ(first.file.parent_path(), box / "new");
  EXPECT_TRUE(first.file.filename().string().starts_with(unique + ",S="));
  const MaildirResult again =
      deliver_once_to_maildir(box, unique, false, "bob@example.org", "alice@example.com", "x\r\n");
  ASSERT_FALSE(again.error);
  EXPECT_TRUE(again.already);
  EXPECT_EQ(again.file, first.file);
  EXPECT_EQ(files_in(box / "new").size(), 1u);
  EXPECT_TRUE(files_in(box / "tmp").empty());
  // Another recipient index of the same message is another file.
  const MaildirResult other = deliver_once_to_maildir(
      box, maildir_unique_name(1700000000, "1K0WXN8HW9S00VBP", 4), false, "b@x", "a@y", "x\r\n");
  ASSERT_FALSE(other.error);
  EXPECT_FALSE(other.already);
  EXPECT_EQ(files_in(box / "new").size(), 2u);
}

TEST(MaildirOnce, AMessageAReaderMovedToCurIsFoundWhenAsked) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  const std::string unique = maildir_unique_name(1, "Q1", 0);
  const MaildirResult first = deliver_once_to_maildir(box, unique, false, "b@x", "a@y", "x\r\n");
  ASSERT_FALSE(first.error);
  // What Dovecot does once the user has seen it (Maildir info ":2,S").
  const fs::path seen = box / "cur" / (first.file.filename().string() + ":2,S");
  fs::rename(first.file, seen);
  const MaildirResult recovered = deliver_once_to_maildir(box, unique, true, "b@x", "a@y", "x\r\n");
  ASSERT_FALSE(recovered.error);
  EXPECT_TRUE(recovered.already);
  EXPECT_EQ(recovered.file, seen);
  EXPECT_TRUE(files_in(box / "new").empty());
  // Without the hint only new/ is looked at (the cheap, common case).
  const MaildirResult blind = deliver_once_to_maildir(box, unique, false, "b@x", "a@y", "x\r\n");
  EXPECT_FALSE(blind.already);
}

TEST(MaildirOnce, AHalfWrittenTmpFileFromACrashIsReplaced) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  const std::string unique = maildir_unique_name(1, "Q2", 0);
  ASSERT_FALSE(deliver_once_to_maildir(box, maildir_unique_name(1, "Q0", 0), false, "b@x", "a@y",
                                       "x\r\n")
                   .error);  // creates the folders
  const std::string content_size =
      std::to_string(std::string("Return-Path: <b@x>\nDelivered-To: a@y\nx\n").size());
  {
    std::ofstream torn(box / "tmp" / (unique + ",S=" + content_size));
    torn << "Return-Pa";
  }
  const MaildirResult r = deliver_once_to_maildir(box, unique, false, "b@x", "a@y", "x\r\n");
  ASSERT_FALSE(r.error) << r.error.message();
  EXPECT_FALSE(r.already);
  EXPECT_EQ(slurp(r.file), "Return-Path: <b@x>\nDelivered-To: a@y\nx\n");
  EXPECT_TRUE(files_in(box / "tmp").empty());
}

TEST(MaildirOnce, RefusesNamesThatAreNotOneComponent) {
  TempDir dir;
  for (const char* bad : {"", "a/b", "a:2,S"}) {
    EXPECT_EQ(deliver_once_to_maildir(dir.path() / "box", bad, false, "b@x", "a@y", "x").error,
              std::errc::invalid_argument)
        << bad;
  }
}

}  // namespace
}  // namespace postern::delivery

namespace postern::delivery {
namespace {

// Concurrent deliveries into one Maildir share the fsyncs of new/ (group
// commit): every one of them still ends with its file in new/ and nothing
// left in tmp/.
TEST(MaildirOnce, ConcurrentDeliveriesIntoOneFolderAllLand) {
  TempDir dir;
  const fs::path box = dir.path() / "example.com" / "alice";
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> errors;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const MaildirResult r = deliver_once_to_maildir(
            box, maildir_unique_name(1, "Q" + std::to_string(t), static_cast<std::size_t>(i)),
            false, "b@x", "a@y", "x\r\n");
        if (r.error || r.already) {
          std::lock_guard lock(mu);
          errors.push_back(r.error ? r.error.message() : "already");
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(files_in(box / "new").size(), 160u);
  EXPECT_TRUE(files_in(box / "tmp").empty());
}

}  // namespace
}  // namespace postern::delivery
