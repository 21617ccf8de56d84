// Lets a coroutine wait for a callback that fires on another thread (the
// spool's writer, the password-hashing pool) and resume on its own executor.
#pragma once

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <utility>

namespace postern::net {

// `start` receives a completion function to call exactly once, from any
// thread, with the result. The awaiting coroutine resumes on `executor`.
// Deliberately not a coroutine itself: GCC 12 mishandles non-trivial
// coroutine parameters, so the callable goes straight into the initiation.
template <typename T, typename Executor, typename Start>
asio::awaitable<T> await_callback(Executor executor, Start start) {
  auto initiation = [executor, start = std::move(start)](auto handler) mutable {
    // Handlers are move-only; std::function needs a copyable callable.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    start(std::function<void(T)>([executor, shared](T value) {
      asio::post(executor,
                 [shared, value = std::move(value)]() mutable { (*shared)(std::move(value)); });
    }));
  };
  return asio::async_initiate<decltype(asio::use_awaitable), void(T)>(std::move(initiation),
                                                                      asio::use_awaitable);
}

}  // namespace postern::net
