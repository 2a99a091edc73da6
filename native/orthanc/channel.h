// One connection to one gateway process: a writer thread draining a send
// queue (so no caller ever blocks on the socket) and a reader thread decoding
// frames. Replies to our `http` requests are matched to waiting callers here;
// `call` frames are handed out (never executed on the reader thread, because
// an SDK call may itself wait for an `httpReply` read by this very thread).
#pragma once

#include "frame.h"

#include <json/json.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace aibridge {

struct HttpReply {
  int status = 0;
  std::string contentType;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

enum class HttpOutcome { Replied, Timeout, Disconnected };

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  // Receives each `call` frame (header and body) with the channel to reply on.
  using CallHandler = std::function<void(const std::shared_ptr<Channel>&, Frame&&)>;

  // Bounded so a stuck gateway cannot eat Orthanc's memory with changes.
  static constexpr size_t kMaxDroppableQueue = 100000;

  // Takes ownership of `fd` and starts both threads.
  static std::shared_ptr<Channel> Start(int fd, CallHandler onCall);
  ~Channel();

  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Queues one frame; never blocks. A droppable frame (a change) is refused
  // when the queue holds kMaxDroppableQueue frames. False when refused, when
  // the channel is closed, or when the frame is over a limit.
  bool Send(const Json::Value& header, const std::string& body = std::string(),
            bool droppable = false);

  // Sends an `http` frame (an id is added to `header`) and waits for its
  // `httpReply`. Returns early with Disconnected if the channel closes.
  HttpOutcome Http(Json::Value header, const std::string& body,
                   std::chrono::milliseconds timeout, HttpReply& reply);

  bool IsClosed() const;
  // Waits until the reader saw EOF or an error (or the timeout passed).
  bool WaitClosed(std::chrono::milliseconds timeout);
  // Time of the last byte received (or of Start()).
  std::chrono::steady_clock::time_point LastActivity() const;
  bool ReceivedAnyFrame() const { return receivedFrame_.load(); }
  // The `fatal` frame, if one arrived (details: its optional object).
  bool GetFatal(std::string& code, std::string& message, Json::Value& details) const;

  // Idempotent. Shuts the socket down, fails waiting http requests, joins
  // both threads, closes the fd. Must not be called from the channel's own
  // threads (the supervisor calls it).
  void Close();

 private:
  Channel(int fd, CallHandler onCall);
  void ReaderLoop();
  void WriterLoop();
  // Marks the channel broken (from any thread) and wakes everybody.
  void MarkClosed(const std::string& reason);
  void HandleFrame(Frame&& frame);

  struct PendingHttp {
    bool done = false;
    HttpReply reply;
  };

  const int fd_;
  CallHandler onCall_;

  mutable std::mutex mutex_;
  std::mutex closeMutex_;  // serialises Close()
  std::condition_variable queueCv_;   // writer waits for frames
  std::condition_variable closedCv_;  // WaitClosed / Http waiters
  std::deque<std::string> queue_;
  bool closed_ = false;
  bool threadsJoined_ = false;
  std::string fatalCode_;
  std::string fatalMessage_;
  Json::Value fatalDetails_;
  std::map<int64_t, std::shared_ptr<PendingHttp>> pendingHttp_;
  int64_t nextHttpId_ = 1;

  std::atomic<int64_t> lastActivityNs_;
  std::atomic<bool> receivedFrame_{false};

  std::thread reader_;
  std::thread writer_;
};

}  // namespace aibridge
