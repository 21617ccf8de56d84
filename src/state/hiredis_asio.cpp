#include "state/hiredis_asio.hpp"

#include <asio/posix/stream_descriptor.hpp>
#include <memory>

namespace postern::state {
namespace {

// Lives while hiredis holds the context and while a wait is outstanding:
// hiredis owns one shared_ptr (ev.data, freed by cleanup), every pending
// wait another.
struct Watcher : std::enable_shared_from_this<Watcher> {
  Watcher(asio::io_context& loop, redisAsyncContext* ac) : fd(loop, ac->c.fd), context(ac) {}

  asio::posix::stream_descriptor fd;
  redisAsyncContext* context;  // null once hiredis cleaned up
  bool want_read = false;
  bool want_write = false;
  bool reading = false;  // a wait_read is outstanding
  bool writing = false;

  void arm_read() {
    if (reading || !want_read || !context) return;
    reading = true;
    fd.async_wait(asio::posix::stream_descriptor::wait_read,
                  [self = shared_from_this()](const std::error_code& ec) {
                    self->reading = false;
                    if (ec || !self->context || !self->want_read) return;
                    // May call back into delRead/cleanup.
                    redisAsyncHandleRead(self->context);
                    self->arm_read();
                  });
  }
  void arm_write() {
    if (writing || !want_write || !context) return;
    writing = true;
    fd.async_wait(asio::posix::stream_descriptor::wait_write,
                  [self = shared_from_this()](const std::error_code& ec) {
                    self->writing = false;
                    if (ec || !self->context || !self->want_write) return;
                    redisAsyncHandleWrite(self->context);
                    self->arm_write();
                  });
  }
};

Watcher& of(void* data) {
  return *static_cast<std::shared_ptr<Watcher>*>(data)->get();
}

void add_read(void* data) {
  Watcher& w = of(data);
  w.want_read = true;
  w.arm_read();
}
void del_read(void* data) {
  of(data).want_read = false;  // an outstanding wait finds it unwanted and stops
}
void add_write(void* data) {
  Watcher& w = of(data);
  w.want_write = true;
  w.arm_write();
}
void del_write(void* data) {
  of(data).want_write = false;
}
void cleanup(void* data) {
  auto* holder = static_cast<std::shared_ptr<Watcher>*>(data);
  Watcher& w = **holder;
  w.context = nullptr;
  w.want_read = w.want_write = false;
  // hiredis closes the descriptor; release() takes it back from Asio
  // without closing it, and ends the outstanding waits.
  w.fd.release();
  delete holder;
}

}  // namespace

bool attach_to_asio(redisAsyncContext* context, asio::io_context& loop) {
  if (context->ev.data != nullptr) return false;
  auto* holder = new std::shared_ptr<Watcher>(std::make_shared<Watcher>(loop, context));
  context->ev.data = holder;
  context->ev.addRead = add_read;
  context->ev.delRead = del_read;
  context->ev.addWrite = add_write;
  context->ev.delWrite = del_write;
  context->ev.cleanup = cleanup;
  return true;
}

}  // namespace postern::state
