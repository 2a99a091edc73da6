// A small fixed pool of threads executing the gateway's `call` frames through
// the generated dispatcher and answering with `result` frames. Separate from
// the channel's reader so an SDK call that re-enters /ai-bridge/ (and waits
// for an httpReply) cannot deadlock, and shared across gateway restarts.
#pragma once

#include "channel.h"

#include <orthanc/OrthancCPlugin.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace aibridge {

class SdkWorkers {
 public:
  static constexpr size_t kThreads = 4;
  // Beyond this many queued calls the gateway is answered "busy" at once.
  static constexpr size_t kMaxQueued = 10000;

  explicit SdkWorkers(OrthancPluginContext* context);
  ~SdkWorkers();

  void Start();
  // Joins the threads after the queued calls are answered (or dropped, when
  // their channel is gone).
  void Stop();

  // Called on the channel's reader thread; never blocks.
  void Submit(const std::shared_ptr<Channel>& channel, Frame&& call);

 private:
  struct Job {
    std::shared_ptr<Channel> channel;
    Frame call;
  };
  void Loop();
  void Execute(Job& job);

  OrthancPluginContext* context_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace aibridge
