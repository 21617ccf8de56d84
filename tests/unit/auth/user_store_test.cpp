#include "auth/user_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "auth/password_generator.hpp"

namespace postern::auth {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const char* name) {
  const auto dir = fs::temp_directory_path() / ("postern-users-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

TEST(Password, HashIsArgon2idAndVerifies) {
  const auto hash = hash_password("correct horse");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_TRUE(verify_password(hash, "correct horse"));
  EXPECT_FALSE(verify_password(hash, "correct horse "));
  EXPECT_FALSE(verify_password(hash, ""));
  EXPECT_FALSE(verify_password("$2y$10$notargon", "x"));
}

TEST(Password, GeneratedPasswordsAreLongAndDistinct) {
  const auto a = generate_password();
  const auto b = generate_password();
  EXPECT_EQ(a.size(), 20u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_of("0O1lI"), std::string::npos);
}

TEST(UserStore, AddSaveLoadRoundTripWithMode) {
  const auto path = temp_file("roundtrip");
  UserStore store;
  EXPECT_TRUE(store.add("alice@Example.COM", "$argon2id$v=19$fake"));
  EXPECT_FALSE(store.add("alice@example.com", "$argon2id$v=19$other"));  // same user
  EXPECT_FALSE(store.add("no-at-sign", "$argon2id$x"));
  EXPECT_FALSE(store.add("a:b@example.com", "$argon2id$x"));
  ASSERT_FALSE(store.save(path));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);

  std::error_code ec;
  std::vector<std::string> problems;
  auto back = UserStore::load(path, &problems, ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(problems.empty());
  EXPECT_TRUE(back.exists("alice@example.com"));
  EXPECT_TRUE(back.exists("alice@EXAMPLE.com"));
  // SPEC §1.9: local parts are matched without case too.
  EXPECT_TRUE(back.exists("ALICE@example.com"));
  EXPECT_EQ(back.hash_for("alice@example.com").value(), "$argon2id$v=19$fake");
}

TEST(UserStore, EditsAndMissingFile) {
  std::error_code ec;
  auto store = UserStore::load(temp_file("does-not-exist"), nullptr, ec);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(store.addresses().empty());
  EXPECT_FALSE(store.set_hash("bob@example.com", "$argon2id$x"));
  EXPECT_TRUE(store.add("bob@example.com", "$argon2id$x"));
  EXPECT_TRUE(store.set_hash("bob@example.com", "$argon2id$y"));
  EXPECT_EQ(store.hash_for("bob@example.com").value(), "$argon2id$y");
  EXPECT_TRUE(store.remove("bob@example.com"));
  EXPECT_FALSE(store.remove("bob@example.com"));
}

TEST(UserStore, MalformedLinesReportedWithLineNumbers) {
  const auto path = temp_file("malformed");
  {
    std::ofstream out(path);
    out << "# comment\n\n"
        << "good@example.com:$argon2id$v=19$ok\n"
        << "no-colon-here\n"
        << "bad@example.com:$2y$bcrypt\n"
        << "good@example.com:$argon2id$dup\n";
  }
  std::vector<std::string> problems;
  std::error_code ec;
  auto store = UserStore::load(path, &problems, ec);
  EXPECT_FALSE(ec);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find(":4:"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find(":5:"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find(":6:"), std::string::npos) << problems[2];
  EXPECT_EQ(store.addresses().size(), 1u);
  EXPECT_EQ(store.hash_for("good@example.com").value(), "$argon2id$v=19$ok");
}

}  // namespace
}  // namespace postern::auth
