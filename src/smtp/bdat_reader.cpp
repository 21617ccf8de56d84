#include "smtp/bdat_reader.hpp"

#include <algorithm>

#include "smtp/line_break.hpp"

namespace postern::smtp {

void BdatReader::begin_chunk(std::size_t size, bool last, bool discard) {
  remaining_ = size;
  chunk_size_ = size;
  last_ = last;
  discard_ = discard;
}

void BdatReader::emit(std::string& body, std::string_view bytes, std::size_t limit) {
  if (overflowed_) return;
  if (body.size() + bytes.size() > limit) {
    overflowed_ = true;
    body.clear();
    body.shrink_to_fit();
    return;
  }
  body.append(bytes);
}

std::size_t BdatReader::feed(std::string_view in, std::string& body, std::size_t limit) {
  const std::size_t take = std::min(remaining_, in.size());
  remaining_ -= take;
  if (discard_) return take;
  const std::string_view chunk = in.substr(0, take);
  std::size_t i = 0;
  while (i < chunk.size() && !overflowed_) {
    const char c = chunk[i];
    if (pending_cr_) {
      pending_cr_ = false;
      emit(body, "\r\n", limit);
      if (c == '\n') {
        ++i;
        continue;
      }
    }
    if (c == '\r') {
      pending_cr_ = true;
      ++i;
    } else if (c == '\n') {
      emit(body, "\r\n", limit);  // bare LF
      ++i;
    } else {
      const std::size_t end = find_line_break(chunk, i);
      emit(body, chunk.substr(i, end - i), limit);
      i = end;
    }
  }
  return take;
}

void BdatReader::finish(std::string& body, std::size_t limit) {
  if (pending_cr_) {
    pending_cr_ = false;
    emit(body, "\r\n", limit);
  }
}

}  // namespace postern::smtp
