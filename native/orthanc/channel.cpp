#include "channel.h"

#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aibridge {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::shared_ptr<Channel> Channel::Start(int fd, CallHandler onCall) {
  std::shared_ptr<Channel> channel(new Channel(fd, std::move(onCall)));
  channel->reader_ = std::thread([raw = channel.get()] { raw->ReaderLoop(); });
  channel->writer_ = std::thread([raw = channel.get()] { raw->WriterLoop(); });
  return channel;
}

Channel::Channel(int fd, CallHandler onCall)
    : fd_(fd), onCall_(std::move(onCall)), lastActivityNs_(NowNs()) {}

Channel::~Channel() { Close(); }

bool Channel::Send(const Json::Value& header, const std::string& body, bool droppable) {
  std::string bytes;
  std::string error;
  if (!EncodeFrame(header, body, bytes, error)) {
    LogError("not sending a " + header.get("k", "?").asString() + " frame: " + error);
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    if (droppable && queue_.size() >= kMaxDroppableQueue) return false;
    queue_.push_back(std::move(bytes));
  }
  queueCv_.notify_one();
  return true;
}

HttpOutcome Channel::Http(Json::Value header, const std::string& body,
                          std::chrono::milliseconds timeout, HttpReply& reply) {
  auto pending = std::make_shared<PendingHttp>();
  int64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return HttpOutcome::Disconnected;
    id = nextHttpId_++;
    pendingHttp_[id] = pending;
  }
  header["id"] = Json::Int64(id);
  if (!Send(header, body)) {
    std::lock_guard<std::mutex> lock(mutex_);
    pendingHttp_.erase(id);
    return HttpOutcome::Disconnected;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  const bool finished = closedCv_.wait_for(lock, timeout, [&] { return pending->done || closed_; });
  pendingHttp_.erase(id);
  if (pending->done) {
    reply = std::move(pending->reply);
    return HttpOutcome::Replied;
  }
  return finished ? HttpOutcome::Disconnected : HttpOutcome::Timeout;
}

bool Channel::IsClosed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

bool Channel::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return closedCv_.wait_for(lock, timeout, [&] { return closed_; });
}

std::chrono::steady_clock::time_point Channel::LastActivity() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(lastActivityNs_.load()));
}

bool Channel::GetFatal(std::string& code, std::string& message, Json::Value& details) const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (fatalCode_.empty()) return false;
  code = fatalCode_;
  message = fatalMessage_;
  details = fatalDetails_;
  return true;
}

void Channel::MarkClosed(const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    queue_.clear();
  }
  if (!reason.empty()) LogWarning("gateway connection closed: " + reason);
  // Wakes a reader blocked in read() and a writer blocked in send(), even if
  // a grandchild of the gateway still holds the other end.
  shutdown(fd_, SHUT_RDWR);
  queueCv_.notify_all();
  closedCv_.notify_all();
}

void Channel::Close() {
  MarkClosed("");
  std::lock_guard<std::mutex> closeLock(closeMutex_);
  if (threadsJoined_) return;
  threadsJoined_ = true;
  for (std::thread* t : {&reader_, &writer_}) {
    if (!t->joinable()) continue;
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();  // defensive: the last reference dropped on our own thread
    } else {
      t->join();
    }
  }
  close(fd_);
}

void Channel::WriterLoop() {
  for (;;) {
    std::string bytes;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queueCv_.wait(lock, [&] { return closed_ || !queue_.empty(); });
      if (closed_) return;
      bytes = std::move(queue_.front());
      queue_.pop_front();
    }
    size_t done = 0;
    while (done < bytes.size()) {
      // MSG_NOSIGNAL: a vanished gateway must not SIGPIPE Orthanc.
      const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        MarkClosed(std::string("write failed: ") + strerror(errno));
        return;
      }
      done += static_cast<size_t>(n);
    }
  }
}

void Channel::ReaderLoop() {
  const auto touch = [this] { lastActivityNs_.store(NowNs()); };
  for (;;) {
    Frame frame;
    std::string error;
    const ReadStatus status = ReadFrame(fd_, frame, error, touch);
    if (status == ReadStatus::Eof) {
      MarkClosed("end of stream");
      return;
    }
    if (status == ReadStatus::Error) {
      bool already;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        already = closed_;
      }
      MarkClosed(already ? "" : "protocol error: " + error);
      return;
    }
    receivedFrame_.store(true);
    try {
      HandleFrame(std::move(frame));
    } catch (const std::exception& e) {
      LogError(std::string("cannot handle a frame from the gateway: ") + e.what());
    }
  }
}

void Channel::HandleFrame(Frame&& frame) {
  const std::string kind = frame.header["k"].asString();
  if (kind == "call") {
    onCall_(shared_from_this(), std::move(frame));
  } else if (kind == "httpReply") {
    const Json::Value& h = frame.header;
    if (!h["id"].isIntegral() || !h["status"].isIntegral()) {
      LogError("httpReply frame without an integer id and status; ignored");
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = pendingHttp_.find(h["id"].asInt64());
    if (it == pendingHttp_.end()) return;  // the caller already timed out
    HttpReply& reply = it->second->reply;
    reply.status = h["status"].asInt();
    reply.contentType = h["contentType"].isString() ? h["contentType"].asString() : "";
    if (h["headers"].isObject()) {
      for (const std::string& name : h["headers"].getMemberNames()) {
        const Json::Value& v = h["headers"][name];
        if (v.isString()) reply.headers.emplace_back(name, v.asString());
      }
    }
    reply.body = std::move(frame.body);
    it->second->done = true;
    closedCv_.notify_all();
  } else if (kind == "pong") {
    // Liveness only; LastActivity() already moved.
  } else if (kind == "fatal") {
    std::lock_guard<std::mutex> lock(mutex_);
    fatalCode_ = frame.header["code"].isString() ? frame.header["code"].asString() : "AIB_GATEWAY_FATAL";
    fatalMessage_ = frame.header["message"].isString() ? frame.header["message"].asString() : "";
    fatalDetails_ = frame.header["details"].isObject() ? frame.header["details"] : Json::Value(Json::objectValue);
  } else {
    LogWarning("ignoring a frame of unknown kind \"" + kind + "\" from the gateway");
  }
}

}  // namespace aibridge
