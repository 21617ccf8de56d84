#include "smtp/bdat_reader.hpp"

#include <algorithm>

namespace postern::smtp {

void BdatReader::begin_chunk(std::size_t size, bool last, bool discard) {
  remaining_ = size;
  chunk_size_ = size;
  last_ = last;
  discard_ = discard;
}

std::size_t BdatReader::feed(std::string_view in, std::string& body, std::size_t limit) {
  const std::size_t take = std::min(remaining_, in.size());
  remaining_ -= take;
  if (discard_ || overflowed_) return take;
  if (body.size() + take > limit) {
    overflowed_ = true;
    body.clear();
    body.shrink_to_fit();
    return take;
  }
  body.append(in.substr(0, take));
  return take;
}

}  // namespace postern::smtp
