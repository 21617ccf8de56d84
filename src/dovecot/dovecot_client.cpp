#include "dovecot/dovecot_client.hpp"

#include <string.h>  // explicit_bzero
#include <unistd.h>  // getpid

#include <array>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

namespace postern::dovecot {
namespace {

using Socket = asio::local::stream_protocol::socket;

// Bounds the cache so that a flood of invented recipients cannot grow it
// without end; when full, expired entries go, and if that is not enough,
// everything (the next questions simply go to Dovecot again).
constexpr std::size_t kMaxCacheEntries = 10000;

// Runs one pure dialogue over one connection: connect, then write what the
// dialogue says and feed it what arrives, until it is done, the peer goes
// away or the deadline passes. Callback style rather than a coroutine: the
// conversation owns itself through shared_from_this, and nothing in it is
// a coroutine parameter (see net/async_bridge.hpp on GCC 12).
template <typename Dialogue>
class Conversation : public std::enable_shared_from_this<Conversation<Dialogue>> {
 public:
  using Done = std::function<void(Dialogue&, const std::string& failure)>;

  Conversation(asio::io_context& io, std::filesystem::path path, Dialogue dialogue,
               std::chrono::milliseconds timeout, Done done)
      : socket_(io),
        timer_(io),
        path_(std::move(path)),
        dialogue_(std::move(dialogue)),
        timeout_(timeout),
        done_(std::move(done)) {}

  void start() {
    auto self = this->shared_from_this();
    timer_.expires_after(timeout_);
    timer_.async_wait([self](const std::error_code& ec) {
      if (ec || self->finished_) return;
      self->timed_out_ = true;
      std::error_code ignored;
      self->socket_.close(ignored);  // pending operations end with an error
    });
    socket_.async_connect(
        asio::local::stream_protocol::endpoint(path_.string()), [self](const std::error_code& ec) {
          if (ec) {
            return self->finish("cannot connect to " + self->path_.string() + ": " + ec.message());
          }
          self->pump();
        });
  }

 private:
  void pump() {
    auto self = this->shared_from_this();
    out_ = dialogue_.take_output();
    if (!out_.empty()) {
      asio::async_write(socket_, asio::buffer(out_),
                        [self](const std::error_code& ec, std::size_t) {
                          explicit_bzero(self->out_.data(), self->out_.size());
                          if (ec) return self->lost(ec);
                          self->pump();
                        });
      return;
    }
    if (dialogue_.done()) return finish("");
    socket_.async_read_some(asio::buffer(buf_), [self](const std::error_code& ec, std::size_t n) {
      if (ec) return self->lost(ec);
      self->dialogue_.feed(std::string_view(self->buf_.data(), n));
      self->pump();
    });
  }

  void lost(const std::error_code& ec) {
    dialogue_.peer_closed();
    if (timed_out_) {
      return finish("no answer from " + path_.string() + " within " +
                    std::to_string(timeout_.count()) + " ms");
    }
    finish(ec == asio::error::eof ? "" : path_.string() + ": " + ec.message());
  }

  void finish(std::string failure) {
    if (finished_) return;
    finished_ = true;
    if (!dialogue_.done()) dialogue_.peer_closed();
    timer_.cancel();
    std::error_code ignored;
    socket_.close(ignored);
    done_(dialogue_, failure);
  }

  Socket socket_;
  asio::steady_timer timer_;
  std::filesystem::path path_;
  Dialogue dialogue_;
  std::chrono::milliseconds timeout_;
  Done done_;
  std::array<char, 4096> buf_{};
  std::string out_;
  bool timed_out_ = false;
  bool finished_ = false;
};

std::string cache_key(std::string_view address) {
  // Domains are case-insensitive; local parts are Dovecot's business, so
  // they stay as given (Dovecot may fold them itself).
  std::string key(address);
  const auto at = key.rfind('@');
  for (std::size_t i = at == std::string::npos ? key.size() : at; i < key.size(); ++i) {
    key[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[i])));
  }
  return key;
}

}  // namespace

std::filesystem::path userdb_socket_beside(const std::filesystem::path& auth_socket) {
  const std::string name = auth_socket.filename().string();
  if (name == "auth-client") return auth_socket.parent_path() / "auth-userdb";
  return auth_socket.parent_path() / (name + "-userdb");
}

struct DovecotClient::Loop {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::thread thread{[this] { io.run(); }};

  ~Loop() {
    guard.reset();
    io.stop();
    thread.join();
  }
};

DovecotClient::DovecotClient(ClientOptions options)
    : options_(std::move(options)), loop_(std::make_unique<Loop>()) {}

DovecotClient::~DovecotClient() = default;

void DovecotClient::stop() {
  std::unique_ptr<Loop> loop;
  {
    std::lock_guard lock(loop_mu_);
    loop = std::move(loop_);
  }
}

void DovecotClient::authenticate(AuthRequest request, std::function<void(AuthAnswer)> done) {
  request.client_pid = static_cast<unsigned long>(::getpid());
  std::lock_guard lock(loop_mu_);
  if (!loop_) {
    AuthAnswer stopped;
    stopped.reason = "shutting down";
    return done(std::move(stopped));
  }
  asio::io_context& io = loop_->io;
  asio::post(io, [this, &io, request = std::move(request), done = std::move(done)]() mutable {
    request.request_id = next_id_++;
    auto conversation = std::make_shared<Conversation<AuthClientDialogue>>(
        io, options_.auth_socket, AuthClientDialogue(std::move(request)), options_.auth_timeout,
        [done = std::move(done)](AuthClientDialogue& d, const std::string& failure) {
          AuthAnswer answer;
          answer.verdict = d.verdict();
          answer.user = d.user();
          answer.reason = failure.empty() ? d.reason() : failure;
          done(std::move(answer));
        });
    conversation->start();
  });
}

std::optional<LookupAnswer> DovecotClient::cached(const std::string& key) {
  std::lock_guard lock(cache_mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return std::nullopt;
  if (std::chrono::steady_clock::now() >= it->second.expires) {
    cache_.erase(it);
    return std::nullopt;
  }
  LookupAnswer answer;
  answer.verdict = it->second.verdict;
  answer.cached = true;
  return answer;
}

void DovecotClient::remember(const std::string& key, UserVerdict verdict) {
  if (verdict != UserVerdict::exists && verdict != UserVerdict::not_found) return;
  const auto now = std::chrono::steady_clock::now();
  const auto ttl = verdict == UserVerdict::exists ? options_.positive_ttl : options_.negative_ttl;
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= kMaxCacheEntries) {
    std::erase_if(cache_, [now](const auto& e) { return now >= e.second.expires; });
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  }
  cache_[key] = CacheEntry{verdict, now + ttl};
}

void DovecotClient::lookup_user(std::string address, std::function<void(LookupAnswer)> done) {
  std::string key = cache_key(address);
  std::lock_guard lock(loop_mu_);
  if (!loop_) {
    LookupAnswer stopped;
    stopped.reason = "shutting down";
    return done(std::move(stopped));
  }
  asio::io_context& io = loop_->io;
  asio::post(io, [this, &io, address = std::move(address), key = std::move(key),
                  done = std::move(done)]() mutable {
    if (auto hit = cached(key)) return done(*hit);
    auto conversation = std::make_shared<Conversation<UserdbDialogue>>(
        io, options_.userdb_socket, UserdbDialogue(address, next_id_++), options_.lookup_timeout,
        [this, key, done = std::move(done)](UserdbDialogue& d, const std::string& failure) {
          LookupAnswer answer;
          answer.verdict = d.verdict();
          answer.reason = failure.empty() ? d.reason() : failure;
          remember(key, answer.verdict);
          done(std::move(answer));
        });
    conversation->start();
  });
}

}  // namespace postern::dovecot
