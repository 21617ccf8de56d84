// Drives a hiredis asynchronous context on an Asio event loop. hiredis
// ships adapters for libevent, libev, libuv and others but not Asio; this
// is the same small adapter over its addRead/delRead/addWrite/delWrite/
// cleanup hooks, waiting on the context's socket with a
// posix::stream_descriptor that never owns the descriptor (hiredis closes
// it). Everything runs on the loop's one thread.
#pragma once

#include <hiredis/async.h>

#include <asio/io_context.hpp>

namespace postern::state {

// Installs the hooks on `context` (once, right after redisAsyncConnect).
// Returns false when the context already has an event library attached.
bool attach_to_asio(redisAsyncContext* context, asio::io_context& loop);

}  // namespace postern::state
