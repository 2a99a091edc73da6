// Frames of the plugin <-> gateway socket (docs/wire-protocol.md):
// uint32 LE header length, uint32 LE body length, JSON header, raw body.
#pragma once

#include <json/json.h>

#include <cstdint>
#include <functional>
#include <string>

namespace aibridge {

constexpr uint32_t kMaxHeaderBytes = 1u << 20;  // 1 MiB
constexpr uint32_t kMaxBodyBytes = 1u << 30;    // 1 GiB

struct Frame {
  Json::Value header;  // always an object with a string "k"
  std::string body;
};

// Serialises one frame into `out`. False (reason in `error`) when the header
// or body is over its limit; nothing is sent then.
bool EncodeFrame(const Json::Value& header, const std::string& body,
                 std::string& out, std::string& error);

// Checks the 8-byte length prefix against the limits.
bool DecodePrefix(const unsigned char prefix[8], uint32_t& headerLength,
                  uint32_t& bodyLength, std::string& error);

// Parses header text: must be a JSON object with a string "k".
bool DecodeHeader(const std::string& text, Json::Value& header, std::string& error);

enum class ReadStatus { Ok, Eof, Error };

// Blocking read of one whole frame from `fd`. Eof only at a frame boundary;
// a truncated frame or a limit violation is Error (a protocol error: the
// caller closes the socket). `onBytes` is called after every successful
// read(), so a long body still counts as liveness.
ReadStatus ReadFrame(int fd, Frame& frame, std::string& error,
                     const std::function<void()>& onBytes);

}  // namespace aibridge
