#include "frame.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <memory>

namespace aibridge {

namespace {

void PutU32(std::string& out, size_t at, uint32_t v) {
  out[at + 0] = static_cast<char>(v & 0xff);
  out[at + 1] = static_cast<char>((v >> 8) & 0xff);
  out[at + 2] = static_cast<char>((v >> 16) & 0xff);
  out[at + 3] = static_cast<char>((v >> 24) & 0xff);
}

uint32_t GetU32(const unsigned char* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// Reads exactly `size` bytes. Returns size read before EOF (< size on EOF),
// or -1 on error.
ssize_t ReadFully(int fd, char* target, size_t size, const std::function<void()>& onBytes) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, target + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
    if (onBytes) onBytes();
  }
  return static_cast<ssize_t>(done);
}

}  // namespace

bool EncodeFrame(const Json::Value& header, const std::string& body,
                 std::string& out, std::string& error) {
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  builder["emitUTF8"] = true;
  const std::string text = Json::writeString(builder, header);
  if (text.size() > kMaxHeaderBytes) {
    error = "frame header of " + std::to_string(text.size()) + " bytes is over the 1 MiB limit";
    return false;
  }
  if (body.size() > kMaxBodyBytes) {
    error = "frame body of " + std::to_string(body.size()) + " bytes is over the 1 GiB limit";
    return false;
  }
  out.assign(8, '\0');
  PutU32(out, 0, static_cast<uint32_t>(text.size()));
  PutU32(out, 4, static_cast<uint32_t>(body.size()));
  out.reserve(8 + text.size() + body.size());
  out += text;
  out += body;
  return true;
}

bool DecodePrefix(const unsigned char prefix[8], uint32_t& headerLength,
                  uint32_t& bodyLength, std::string& error) {
  headerLength = GetU32(prefix);
  bodyLength = GetU32(prefix + 4);
  if (headerLength > kMaxHeaderBytes) {
    error = "frame header length " + std::to_string(headerLength) + " is over the 1 MiB limit";
    return false;
  }
  if (bodyLength > kMaxBodyBytes) {
    error = "frame body length " + std::to_string(bodyLength) + " is over the 1 GiB limit";
    return false;
  }
  return true;
}

bool DecodeHeader(const std::string& text, Json::Value& header, std::string& error) {
  Json::CharReaderBuilder builder;
  builder["collectComments"] = false;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  std::string errors;
  if (!reader->parse(text.data(), text.data() + text.size(), &header, &errors)) {
    error = "frame header is not JSON: " + errors;
    return false;
  }
  if (!header.isObject() || !header.isMember("k") || !header["k"].isString()) {
    error = "frame header is not a JSON object with a string \"k\"";
    return false;
  }
  return true;
}

ReadStatus ReadFrame(int fd, Frame& frame, std::string& error,
                     const std::function<void()>& onBytes) {
  try {
    unsigned char prefix[8];
    const ssize_t got = ReadFully(fd, reinterpret_cast<char*>(prefix), 8, onBytes);
    if (got == 0) return ReadStatus::Eof;
    if (got < 0) {
      error = std::string("read failed: ") + strerror(errno);
      return ReadStatus::Error;
    }
    if (got < 8) {
      error = "connection closed inside a frame prefix";
      return ReadStatus::Error;
    }
    uint32_t headerLength = 0;
    uint32_t bodyLength = 0;
    if (!DecodePrefix(prefix, headerLength, bodyLength, error)) return ReadStatus::Error;

    std::string text(headerLength, '\0');
    if (ReadFully(fd, &text[0], headerLength, onBytes) != static_cast<ssize_t>(headerLength)) {
      error = "connection closed or failed inside a frame header";
      return ReadStatus::Error;
    }
    frame.body.assign(bodyLength, '\0');
    if (bodyLength > 0 &&
        ReadFully(fd, &frame.body[0], bodyLength, onBytes) != static_cast<ssize_t>(bodyLength)) {
      error = "connection closed or failed inside a frame body";
      return ReadStatus::Error;
    }
    if (!DecodeHeader(text, frame.header, error)) return ReadStatus::Error;
    return ReadStatus::Ok;
  } catch (const std::exception& e) {  // e.g. bad_alloc for a 1 GiB body
    error = std::string("cannot read frame: ") + e.what();
    return ReadStatus::Error;
  }
}

}  // namespace aibridge
