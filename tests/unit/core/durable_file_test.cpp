#include "core/durable_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace postern {
namespace {

namespace fs = std::filesystem;

class DurableFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("postern-durable-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DurableFile, WritesWholeContentWithMode) {
  const auto path = dir_ / "users";
  ASSERT_FALSE(write_file_durably(path, "a:b\n", 0640));
  std::string back;
  std::error_code ec;
  ASSERT_TRUE(read_file(path, back, ec));
  EXPECT_EQ(back, "a:b\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(DurableFile, ReplacesAtomicallyAndLeavesNoTempFiles) {
  const auto path = dir_ / "f";
  ASSERT_FALSE(write_file_durably(path, "one"));
  ASSERT_FALSE(write_file_durably(path, "two"));
  std::string back;
  std::error_code ec;
  ASSERT_TRUE(read_file(path, back, ec));
  EXPECT_EQ(back, "two");
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(DurableFile, FailsWhenDirectoryIsMissingAndLeavesNothing) {
  const auto path = dir_ / "missing" / "f";
  EXPECT_TRUE(write_file_durably(path, "x"));
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(DurableFile, FailsWhenParentIsAFile) {
  // Root ignores permission bits, so tests make a path unusable by putting a
  // regular file where a directory should be.
  ASSERT_FALSE(write_file_durably(dir_ / "plain", "x"));
  EXPECT_TRUE(write_file_durably(dir_ / "plain" / "f", "x"));
}

TEST_F(DurableFile, ReadMissingFileReportsError) {
  std::string out;
  std::error_code ec;
  EXPECT_FALSE(read_file(dir_ / "nope", out, ec));
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace postern
