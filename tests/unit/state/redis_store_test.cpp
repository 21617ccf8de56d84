// RedisStore against a real redis-server (Debian's package; the test is
// skipped without it), started here on a free loopback port and stopped
// after: the Lua script gives the answers the in-process arithmetic gives,
// and a Redis that goes away never leaves a request unanswered.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "state/in_process_store.hpp"
#include "state/redis_store.hpp"

extern char** environ;

namespace postern::state {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRedis = "/usr/bin/redis-server";

std::uint16_t free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool answers(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class Redis {
 public:
  explicit Redis(std::uint16_t port) : port_(port) {}
  ~Redis() { kill(); }
  bool start() {
    const std::string p = std::to_string(port_);
    std::vector<std::string> args = {kRedis,   "--bind",     "127.0.0.1",    "--port", p,
                                     "--save", "",           "--appendonly", "no",     "--dir",
                                     "/tmp",   "--loglevel", "warning"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, kRedis, nullptr, nullptr, argv.data(), environ) != 0) return false;
    for (int i = 0; i < 200 && !answers(port_); ++i) std::this_thread::sleep_for(25ms);
    return answers(port_);
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

limits::Outcome ask(Store& store, const limits::Request& r) {
  std::promise<limits::Outcome> p;
  store.apply(r, [&p](limits::Outcome o) { p.set_value(std::move(o)); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(5s), std::future_status::ready) << "a request was never answered";
  return f.get();
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kRedis)) GTEST_SKIP() << "redis-server is not installed";
    ASSERT_TRUE(redis_.start());
    config::RedisUrl url;
    url.host = "127.0.0.1";
    url.port = port_;
    store_ = std::make_unique<RedisStore>(loop_, url);
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    work_.reset();
    loop_.stop();
    if (thread_.joinable()) thread_.join();
    store_.reset();
  }
  // Waits until Redis itself answers (the first requests may come before
  // the connection is up and are answered in-process).
  void wait_shared() {
    const limits::Request peek{limits::Op::peek, {{"probe", limits::Rate{1, 60s}}}, 1};
    for (int i = 0; i < 100; ++i) {
      if (ask(*store_, peek).shared) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "never connected to Redis";
  }

  std::uint16_t port_ = free_port();
  Redis redis_{port_};
  asio::io_context loop_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(loop_);
  std::unique_ptr<RedisStore> store_;
  std::thread thread_;
};

TEST_F(RedisStoreTest, TheScriptCountsLikeTheInProcessTable) {
  wait_shared();
  const std::vector<limits::Counter> counters = {{"msg:60000:u@x", limits::Rate{5, 60s}},
                                                 {"msg:3600000:u@x", limits::Rate{7, 3600s}}};
  const limits::Request take{limits::Op::take, counters, 1};
  InProcessStore local;
  for (int i = 0; i < 5; ++i) {
    const auto shared = ask(*store_, take);
    const auto mine = ask(local, take);
    EXPECT_TRUE(shared.shared);
    EXPECT_TRUE(shared.allowed) << i;
    EXPECT_EQ(shared.counters[0].count, mine.counters[0].count) << i;
    EXPECT_EQ(shared.counters[1].count, mine.counters[1].count) << i;
  }
  const auto refused = ask(*store_, take);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.counters[0].count, 5u);
  EXPECT_EQ(refused.counters[1].count, 5u) << "a refused take charges no counter";
  EXPECT_GT(refused.counters[0].retry_after, 0ms);
  EXPECT_LE(refused.counters[0].retry_after, 61s);
  EXPECT_EQ(refused.counters[1].retry_after, 0ms);
  // add, peek, clear
  const limits::Request add{limits::Op::add, {{"fail:u", limits::Rate{3, 900s}}}, 4};
  EXPECT_EQ(ask(*store_, add).counters[0].count, 4u);
  const auto peek = ask(*store_, {limits::Op::peek, add.counters, 1});
  EXPECT_FALSE(peek.allowed);
  EXPECT_EQ(peek.counters[0].count, 4u);
  ask(*store_, {limits::Op::clear, add.counters, 1});
  EXPECT_EQ(ask(*store_, {limits::Op::peek, add.counters, 1}).counters[0].count, 0u);
}

TEST_F(RedisStoreTest, RedisGoneMeansAnsweredInProcessAtOnce) {
  wait_shared();
  const limits::Request take{limits::Op::take, {{"k", limits::Rate{2, 60s}}}, 1};
  EXPECT_TRUE(ask(*store_, take).shared);
  redis_.kill();
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    const auto o = ask(*store_, take);
    (void)o;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // What Redis counted was mirrored: one take before, so one more fits
  // locally, then the local count refuses.
  const auto local_now = ask(*store_, {limits::Op::peek, take.counters, 1});
  EXPECT_FALSE(local_now.shared);
  EXPECT_FALSE(local_now.allowed);
}

}  // namespace
}  // namespace postern::state
