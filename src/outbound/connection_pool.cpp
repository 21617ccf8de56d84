#include "outbound/connection_pool.hpp"

#include <algorithm>

namespace postern::outbound {
namespace {

using Clock = std::chrono::steady_clock;
using smtp::client::SendBytes;

// QUIT on a connection we are dropping anyway must not hold a delivery
// thread.
constexpr std::chrono::milliseconds kQuitTimeout{500};

}  // namespace

void close_politely(Link& link) {
  if (link.session && link.stream && !link.session->closed()) {
    link.session->quit();
    for (auto& a : link.session->take_actions()) {
      if (auto* s = std::get_if<SendBytes>(&a)) {
        std::string ignored;
        link.stream->write_all(s->bytes, kQuitTimeout, ignored);
      }
    }
  }
  if (link.stream) link.stream->close();
}

ConnectionPool::ConnectionPool(std::size_t max_total, std::size_t max_per_destination,
                               std::chrono::milliseconds idle_keep)
    : max_total_(std::max<std::size_t>(1, max_total)),
      max_per_destination_(std::max<std::size_t>(1, max_per_destination)),
      idle_keep_(idle_keep) {}

ConnectionPool::~ConnectionPool() {
  std::vector<std::unique_ptr<Link>> links;
  {
    std::lock_guard lock(mutex_);
    links.swap(idle_);
  }
  for (auto& l : links) close_politely(*l);
}

std::unique_ptr<Link> ConnectionPool::take_idle(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it =
      std::find_if(idle_.begin(), idle_.end(), [&](const auto& l) { return l->key == key; });
  if (it == idle_.end()) return nullptr;
  std::unique_ptr<Link> link = std::move(*it);
  idle_.erase(it);
  return link;
}

bool ConnectionPool::evict_one_idle(std::unique_lock<std::mutex>& lock,
                                    const std::string& destination) {
  // The oldest idle link goes first; for the per-destination bound only one
  // of that destination helps.
  auto it = idle_.end();
  for (auto i = idle_.begin(); i != idle_.end(); ++i) {
    if (!destination.empty() && (*i)->destination != destination) continue;
    if (it == idle_.end() || (*i)->idle_since < (*it)->idle_since) it = i;
  }
  if (it == idle_.end()) return false;
  std::unique_ptr<Link> link = std::move(*it);
  idle_.erase(it);
  const std::string dest = link->destination;
  lock.unlock();
  close_politely(*link);
  lock.lock();
  --total_;
  if (--per_destination_[dest] == 0) per_destination_.erase(dest);
  return true;
}

bool ConnectionPool::acquire(const std::string& destination, std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  std::unique_lock lock(mutex_);
  for (;;) {
    const bool total_ok = total_ < max_total_;
    const auto it = per_destination_.find(destination);
    const bool dest_ok = it == per_destination_.end() || it->second < max_per_destination_;
    if (total_ok && dest_ok) {
      ++total_;
      ++per_destination_[destination];
      return true;
    }
    if (!dest_ok && evict_one_idle(lock, destination)) continue;
    if (!total_ok && evict_one_idle(lock, "")) continue;
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      // One last look: a slot may have been freed just at the deadline.
      const auto again = per_destination_.find(destination);
      if (total_ < max_total_ &&
          (again == per_destination_.end() || again->second < max_per_destination_)) {
        continue;
      }
      return false;
    }
  }
}

void ConnectionPool::put_idle(std::unique_ptr<Link> link) {
  link->idle_since = Clock::now();
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(link));
}

void ConnectionPool::release(const std::string& destination) {
  {
    std::lock_guard lock(mutex_);
    if (total_ > 0) --total_;
    const auto it = per_destination_.find(destination);
    if (it != per_destination_.end() && --it->second == 0) per_destination_.erase(it);
  }
  freed_.notify_all();
}

void ConnectionPool::expire() {
  std::vector<std::unique_ptr<Link>> expired;
  {
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (now - (*it)->idle_since >= idle_keep_) {
        expired.push_back(std::move(*it));
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& l : expired) {
    close_politely(*l);
    release(l->destination);
  }
}

std::size_t ConnectionPool::open_connections() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace postern::outbound
