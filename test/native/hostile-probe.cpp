// Test-only addon (never loaded by the product): raw system calls that hostile
// code inside a sealed process tries, each answering 0 or the errno the kernel
// gave, so the proof tests assert the kernel's own error and not a Node
// wrapper's interpretation of it.
#include <napi.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace {

Napi::Number Result(Napi::Env env, long rc) { return Napi::Number::New(env, rc < 0 ? errno : 0); }

int IntArg(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }

// ptrace(PTRACE_ATTACH, pid): on success it detaches again at once.
Napi::Value PtraceAttach(const Napi::CallbackInfo& info) {
  const pid_t pid = IntArg(info, 0);
  const long rc = ptrace(PTRACE_ATTACH, pid, nullptr, nullptr);
  const int err = errno;
  if (rc == 0) ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  errno = err;
  return Result(info.Env(), rc);
}

// Reads 8 bytes at the address of this very buffer in the other process (any
// address works as a permission probe: EPERM comes before EFAULT).
Napi::Value ProcessVmRead(const Napi::CallbackInfo& info) {
  char local[8];
  iovec here{local, sizeof local};
  iovec there{local, sizeof local};
  return Result(info.Env(), syscall(SYS_process_vm_readv, IntArg(info, 0), &here, 1, &there, 1, 0));
}

// socket(domain, type, 0); closes it again if it was created.
Napi::Value Socket(const Napi::CallbackInfo& info) {
  const int fd = socket(IntArg(info, 0), IntArg(info, 1), 0);
  const int err = errno;
  if (fd >= 0) close(fd);
  errno = err;
  return Result(info.Env(), fd);
}

// recvmsg(fd, MSG_PEEK | MSG_DONTWAIT) with room for SCM_RIGHTS: never
// consumes what the channel carries.
Napi::Value RecvmsgPeek(const Napi::CallbackInfo& info) {
  char data[1];
  iovec io{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const long rc = recvmsg(IntArg(info, 0), &msg, MSG_PEEK | MSG_DONTWAIT);
  if (rc < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), 0);  // allowed, nothing waiting
  return Result(info.Env(), rc);
}

// sendmsg(fd, MSG_DONTWAIT) with one byte and fd 0 as SCM_RIGHTS: the way a
// sealed process would hand a descriptor out.
Napi::Value SendmsgRights(const Napi::CallbackInfo& info) {
  char data[1] = {0};
  iovec io{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  const int passed = 0;
  std::memcpy(CMSG_DATA(cmsg), &passed, sizeof passed);
  return Result(info.Env(), sendmsg(IntArg(info, 0), &msg, MSG_DONTWAIT));
}

// connect() an AF_UNIX socket to a path, or to an abstract name (leading '@').
Napi::Value ConnectUnix(const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return Result(info.Env(), -1);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const bool abstract = !name.empty() && name[0] == '@';
  const std::string path = abstract ? name.substr(1) : name;
  std::memcpy(address.sun_path + (abstract ? 1 : 0), path.data(), std::min(path.size(), sizeof address.sun_path - 2));
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + (abstract ? 1 : 0) + path.size() + (abstract ? 0 : 1));
  const int rc = connect(fd, reinterpret_cast<sockaddr*>(&address), length);
  const int err = errno;
  close(fd);
  errno = err;
  return Result(info.Env(), rc);
}

// kill(pid, 0): may this process signal that one?
Napi::Value Signal(const Napi::CallbackInfo& info) { return Result(info.Env(), kill(IntArg(info, 0), 0)); }

// open(path, O_RDONLY): the file-system check without Node's fs layer.
Napi::Value OpenRead(const Napi::CallbackInfo& info) {
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const int err = errno;
  if (fd >= 0) close(fd);
  errno = err;
  return Result(info.Env(), fd);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ptraceAttach", Napi::Function::New(env, PtraceAttach));
  exports.Set("processVmRead", Napi::Function::New(env, ProcessVmRead));
  exports.Set("socket", Napi::Function::New(env, Socket));
  exports.Set("recvmsgPeek", Napi::Function::New(env, RecvmsgPeek));
  exports.Set("sendmsgRights", Napi::Function::New(env, SendmsgRights));
  exports.Set("connectUnix", Napi::Function::New(env, ConnectUnix));
  exports.Set("signal", Napi::Function::New(env, Signal));
  exports.Set("openRead", Napi::Function::New(env, OpenRead));
  return exports;
}

}  // namespace

NODE_API_MODULE(aibridge_hostile_probe, Init)
