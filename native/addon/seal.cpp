// Kernel seal of the bridge's sandboxed processes (de-id worker, annotator,
// uplink): no_new_privs, seccomp (all threads), Landlock (reads, writes,
// TCP, scopes). See seal.h for what each layer does and does not cover.
#include "seal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

// --- constants newer than the installed uapi headers ------------------------
// Values from the kernel's include/uapi/linux/landlock.h (6.2 TRUNCATE, ABI 3;
// 6.7 network rights, ABI 4; 6.10 IOCTL_DEV, ABI 5; 6.12 scopes, ABI 6;
// RESTRICT_SELF_TSYNC, ABI 8).
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef LANDLOCK_RESTRICT_SELF_TSYNC
#define LANDLOCK_RESTRICT_SELF_TSYNC (1U << 3)
#endif
// enum landlock_rule_type: LANDLOCK_RULE_NET_PORT = 2 (ABI 4).
constexpr int kRuleNetPort = 2;
// include/uapi/linux/seccomp.h (Linux 4.14).
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

#if defined(__x86_64__)
#define AIB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AIB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seal.cpp: the seccomp filter is written for x86_64 and aarch64 only"
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the filter reads the low 32 bits of a syscall argument at its first byte");

namespace aibridge {
namespace {

constexpr const char* kSealFailed = "AIB_SEAL_FAILED";

// struct landlock_ruleset_attr as of ABI 6 (handled_access_fs, handled_access_net,
// scoped); the size passed to the kernel says which prefix it should read.
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

// struct landlock_net_port_attr (packed in the uapi header: 16 bytes either way).
struct __attribute__((packed)) NetPortAttr {
  uint64_t allowed_access;
  uint64_t port;
};

struct Report {
  bool noNewPrivs = false;
  bool seccomp = false;
  const char* landlock = "unsupported";
  int landlockAbi = 0;
  bool fsRestricted = false;
  // 'none': no socket can be created; 'tcp-ports': AF_INET/AF_INET6 stream
  // sockets, Landlock lets them connect only to the listed ports; 'tcp-any':
  // the same without Landlock's network rules (ABI < 4).
  const char* network = "none";
  std::vector<std::string> scoped;
  int threadsOutsideLandlock = 0;
  std::vector<std::string> missing;
};

enum class State { kOpen, kSealed, kBroken };

State g_state = State::kOpen;
Report g_report;
// Thread ids present when the addon was loaded: Node's own start-up threads
// (V8 platform workers, the delayed-task scheduler). Any other thread found at
// seal time was started by code since (libuv's pool, onnxruntime).
std::set<long> g_startupThreads;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void Fail(Napi::Env env, const std::string& what, int err) {
  std::string message = "seal: " + what;
  if (err != 0) message += ": " + std::string(strerror(err));
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, kSealFailed));
  if (err != 0) error.Set("errno", Napi::Number::New(env, err));
  throw error;
}

Napi::Array ToJsArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::String::New(env, items[i]));
  return out;
}

Napi::Object ToJs(Napi::Env env, const Report& report) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("noNewPrivs", Napi::Boolean::New(env, report.noNewPrivs));
  out.Set("seccomp", Napi::Boolean::New(env, report.seccomp));
  out.Set("landlock", Napi::String::New(env, report.landlock));
  out.Set("landlockAbi", Napi::Number::New(env, report.landlockAbi));
  out.Set("fsRestricted", Napi::Boolean::New(env, report.fsRestricted));
  out.Set("network", Napi::String::New(env, report.network));
  out.Set("scoped", ToJsArray(env, report.scoped));
  out.Set("threadsOutsideLandlock", Napi::Number::New(env, report.threadsOutsideLandlock));
  out.Set("missing", ToJsArray(env, report.missing));
  return out;
}

std::vector<std::string> StringArray(Napi::Env env, const Napi::Object& options, const char* key) {
  Napi::Value value = options.Get(key);
  if (!value.IsArray()) Fail(env, std::string(key) + " must be an array of absolute paths", 0);
  Napi::Array array = value.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    if (!item.IsString()) Fail(env, std::string(key) + "[" + std::to_string(i) + "] is not a string", 0);
    std::string path = item.As<Napi::String>().Utf8Value();
    if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) {
      Fail(env, std::string(key) + "[" + std::to_string(i) + "] is not an absolute path", 0);
    }
    out.push_back(path);
  }
  return out;
}

// tcpConnectPorts: absent → no sockets at all; an array of ports → TCP client only.
bool TcpPorts(Napi::Env env, const Napi::Object& options, std::vector<uint16_t>* ports) {
  Napi::Value value = options.Get("tcpConnectPorts");
  if (value.IsUndefined() || value.IsNull()) return false;
  if (!value.IsArray()) Fail(env, "tcpConnectPorts must be an array of ports", 0);
  Napi::Array array = value.As<Napi::Array>();
  if (array.Length() == 0) Fail(env, "tcpConnectPorts must name at least one port", 0);
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    const double port = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -1;
    if (port < 1 || port > 65535 || port != static_cast<double>(static_cast<int>(port))) {
      Fail(env, "tcpConnectPorts[" + std::to_string(i) + "] is not a port", 0);
    }
    ports->push_back(static_cast<uint16_t>(port));
  }
  return true;
}

std::set<long> ThreadIds() {
  std::set<long> ids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return ids;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long tid = strtol(entry->d_name, &end, 10);
    if (end != entry->d_name && *end == '\0') ids.insert(tid);
  }
  closedir(dir);
  return ids;
}

// --- seccomp -----------------------------------------------------------------

// A tiny BPF assembler with forward labels, so jump offsets are computed, not
// counted by hand.
class Bpf {
 public:
  void Stmt(uint16_t code, uint32_t k) { prog_.push_back({code, -1, -1, k}); }
  // Jump to label `yes` if the comparison holds, else to `no` (-1: next insn).
  void Jump(uint16_t code, uint32_t k, int yes, int no) { prog_.push_back({code, yes, no, k}); }
  int NewLabel() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size()) - 1;
  }
  void Bind(int label) { labels_[label] = static_cast<int>(prog_.size()); }

  // Returns false if a label is unbound or a jump goes backwards or too far.
  bool Assemble(std::vector<sock_filter>* out) const {
    out->clear();
    for (size_t i = 0; i < prog_.size(); ++i) {
      const Insn& insn = prog_[i];
      uint8_t jt = 0, jf = 0;
      if (!Offset(insn.yes, i, &jt) || !Offset(insn.no, i, &jf)) return false;
      out->push_back(sock_filter{insn.code, jt, jf, insn.k});
    }
    return true;
  }

 private:
  struct Insn {
    uint16_t code;
    int yes, no;
    uint32_t k;
  };
  bool Offset(int label, size_t at, uint8_t* offset) const {
    if (label < 0) {
      *offset = 0;
      return true;
    }
    const int target = labels_[label];
    const int delta = target - static_cast<int>(at) - 1;
    if (target < 0 || delta < 0 || delta > 255) return false;
    *offset = static_cast<uint8_t>(delta);
    return true;
  }
  std::vector<Insn> prog_;
  std::vector<int> labels_;
};

// tcpClient: the uplink's profile (AF_INET/AF_INET6 stream sockets and
// connect); otherwise no socket may be created or connected at all.
bool BuildFilter(bool tcpClient, std::vector<sock_filter>* out) {
  Bpf b;
  const int kill = b.NewLabel(), allow = b.NewLabel(), eacces = b.NewLabel(), enosys = b.NewLabel(),
            eperm = b.NewLabel(), socketCall = b.NewLabel();

  // A syscall made through another ABI (i386 int 0x80 on x86_64) has other
  // numbers: the checks below would not apply to it.
  b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, AIB_AUDIT_ARCH, -1, kill);
  b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
  // x32 ABI: same arch value, numbers with bit 30 set.
  b.Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, kill, -1);
#endif
  // New endpoints. The channel to the gateway is an inherited socketpair
  // (fd 3): nothing here needs another one.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, tcpClient ? socketCall : eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, eacces, -1);
  if (!tcpClient) b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_bind, eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_listen, eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_accept, eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_accept4, eacces, -1);
  // Descriptor passing (SCM_RIGHTS) rides on sendmsg/recvmsg ancillary data,
  // which a filter cannot inspect (it is behind a pointer). libuv reads and
  // writes a non-IPC stream with read()/writev(), which drop and never send
  // ancillary data, so these calls are refused outright: no descriptor (a
  // network socket, an unsealed file) can come in or go out.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_recvmsg, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_recvmmsg, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmmsg, eperm, -1);
  // io_uring can open, connect and pass descriptors without the calls above.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_setup, enosys, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_enter, enosys, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_io_uring_register, enosys, -1);
  // Nothing is executed once sealed: no helper binary, no second interpreter.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_execve, eacces, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_execveat, eacces, -1);
  // Reaching into another process of the same user would bypass the seal:
  // its memory, or a copy of one of its descriptors.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_ptrace, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_writev, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_getfd, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_kcmp, eperm, -1);
  // Kernel interfaces no sealed process uses, each a way around the rest.
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_bpf, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_perf_event_open, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_keyctl, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_add_key, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_request_key, eperm, -1);
  b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_userfaultfd, eperm, -1);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

  if (tcpClient) {
    // socket(domain, type, protocol): AF_INET or AF_INET6, SOCK_STREAM (type
    // without SOCK_NONBLOCK/SOCK_CLOEXEC), protocol 0 or IPPROTO_TCP. The
    // kernel reads these as ints: the low 32 bits count.
    const int inet = b.NewLabel();
    const int stream = b.NewLabel();
    b.Bind(socketCall);
    b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    b.Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, inet, -1);
    b.Jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, inet, eacces);
    b.Bind(inet);
    b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
    b.Stmt(BPF_ALU | BPF_AND | BPF_K, 0xF);
    b.Jump(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, stream, eacces);
    b.Bind(stream);
    b.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2]));
    b.Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, allow, -1);
    b.Jump(BPF_JMP | BPF_JEQ | BPF_K, 6 /* IPPROTO_TCP */, allow, eacces);
  }

  b.Bind(allow);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  b.Bind(eacces);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA));
  b.Bind(enosys);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA));
  b.Bind(eperm);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
  b.Bind(kill);
  b.Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
  if (!tcpClient) b.Bind(socketCall);  // unused in this profile
  return b.Assemble(out);
}

void InstallSeccomp(Napi::Env env, bool tcpClient) {
  std::vector<sock_filter> filter;
  if (!BuildFilter(tcpClient, &filter)) Fail(env, "internal error: the seccomp program does not assemble", 0);
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter.size());
  prog.filter = filter.data();
  const long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc < 0) Fail(env, "seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC)", errno);
  if (rc > 0) {
    // TSYNC answers the id of a thread it could not synchronise (it runs
    // another filter): no thread got the filter.
    Fail(env, "seccomp TSYNC: thread " + std::to_string(rc) + " could not be synchronised", 0);
  }
}

// After the filter no socket or io_uring can appear; one that already exists
// would still reach out. The only socket a sealed process keeps is a
// connected AF_UNIX one (the channel to the gateway; stdio pipes are
// socketpairs too when spawned by libuv); an AF_UNIX socket that is not
// connected could still connect to any path (AF_UNIX connect is no Landlock
// right before ABI 6 scopes, and those cover abstract names only).
void CheckDescriptors(Napi::Env env) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) Fail(env, "cannot list /proc/self/fd to check open descriptors", errno);
  const int own = dirfd(dir);
  std::string problem;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own) continue;
    const std::string link = "/proc/self/fd/" + std::string(entry->d_name);
    char target[128] = {0};
    const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::strcmp(target, "anon_inode:[io_uring]") == 0) {
      problem = "descriptor " + std::to_string(fd) + " is an io_uring instance (UV_USE_IO_URING?)";
      break;
    }
    struct stat st {};
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int domain = -1;
    socklen_t len = sizeof domain;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX) {
      problem = "descriptor " + std::to_string(fd) + " is a socket of domain " + std::to_string(domain) +
                ", not AF_UNIX: close it before sealing";
      break;
    }
    sockaddr_storage peer{};
    socklen_t peerLen = sizeof peer;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peerLen) != 0) {
      problem = "descriptor " + std::to_string(fd) + " is an AF_UNIX socket that is not connected: close it before sealing";
      break;
    }
  }
  closedir(dir);
  if (!problem.empty()) Fail(env, problem, 0);
}

// --- Landlock ----------------------------------------------------------------

// Opened before anything is sealed, so a missing path fails without side effects.
struct PathRule {
  std::string path;
  Fd fd;
  bool directory;
  bool writable;
};

void OpenRules(Napi::Env env, const std::vector<std::string>& paths, bool writable, std::vector<PathRule>* rules) {
  for (const std::string& path : paths) {
    Fd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
    if (fd.get() < 0) Fail(env, std::string(writable ? "cannot open writable path " : "cannot open readable path ") + path, errno);
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) Fail(env, "cannot stat " + path, errno);
    rules->push_back(PathRule{path, std::move(fd), S_ISDIR(st.st_mode), writable});
  }
}

int LandlockAbi(Napi::Env env) {
  const long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return static_cast<int>(abi);
  if (errno == ENOSYS || errno == EOPNOTSUPP) return 0;  // not built in / disabled at boot
  Fail(env, "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)", errno);
}

constexpr uint64_t kReadFile = LANDLOCK_ACCESS_FS_READ_FILE;
constexpr uint64_t kReadDir = LANDLOCK_ACCESS_FS_READ_DIR;

void InstallLandlock(Napi::Env env, const std::vector<PathRule>& rules, bool tcpClient, const std::vector<uint16_t>& ports) {
  const int abi = LandlockAbi(env);
  g_report.landlockAbi = abi;
  if (abi == 0) {
    g_report.missing.push_back("Landlock (file reads and writes are not restricted)");
    return;
  }

  // Every file-system right the kernel knows is handled: what no rule grants is refused.
  uint64_t fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
                LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                LANDLOCK_ACCESS_FS_MAKE_SYM;
  if (abi >= 2) fs |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  RulesetAttr attr{};
  attr.handled_access_fs = fs;
  size_t size = offsetof(RulesetAttr, handled_access_net);
  if (abi >= 4) {
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    size = offsetof(RulesetAttr, scoped);
  } else if (tcpClient) {
    g_report.network = "tcp-any";
    g_report.missing.push_back("Landlock network rules (ABI 4): TCP may connect to any port");
  }
  if (abi >= 6) {
    attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
    size = sizeof(RulesetAttr);
    g_report.scoped = {"abstract-unix-socket", "signal"};
  } else {
    g_report.missing.push_back("Landlock scopes (ABI 6): signals to other processes of this user are not refused");
  }
  Fd ruleset(static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0U)));
  if (ruleset.get() < 0) Fail(env, "landlock_create_ruleset", errno);

  const uint64_t writeDir = fs & ~LANDLOCK_ACCESS_FS_EXECUTE;
  const uint64_t writeFile = kReadFile | LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);
  for (const PathRule& rule : rules) {
    landlock_path_beneath_attr beneath{};
    if (rule.writable) beneath.allowed_access = rule.directory ? writeDir : writeFile;
    else beneath.allowed_access = rule.directory ? (kReadFile | kReadDir) : kReadFile;
    // /dev/null: reads, writes and the ioctls node's stdio makes on it.
    if (rule.path == "/dev/null") beneath.allowed_access = kReadFile | LANDLOCK_ACCESS_FS_WRITE_FILE | (abi >= 5 ? LANDLOCK_ACCESS_FS_IOCTL_DEV : 0);
    beneath.parent_fd = rule.fd.get();
    if (syscall(SYS_landlock_add_rule, ruleset.get(), LANDLOCK_RULE_PATH_BENEATH, &beneath, 0U) != 0) {
      Fail(env, "landlock_add_rule(" + rule.path + ")", errno);
    }
  }
  if (abi >= 4 && tcpClient) {
    for (const uint16_t port : ports) {
      NetPortAttr net{LANDLOCK_ACCESS_NET_CONNECT_TCP, port};
      if (syscall(SYS_landlock_add_rule, ruleset.get(), kRuleNetPort, &net, 0U) != 0) {
        Fail(env, "landlock_add_rule(TCP connect port " + std::to_string(port) + ")", errno);
      }
    }
    g_report.network = "tcp-ports";
  }

  uint32_t flags = 0;
  if (abi >= 8) flags |= LANDLOCK_RESTRICT_SELF_TSYNC;
  // Counted now: once restricted, /proc/self is out of reach.
  const int otherThreads = static_cast<int>(ThreadIds().size()) - 1;
  if (syscall(SYS_landlock_restrict_self, ruleset.get(), flags) != 0) Fail(env, "landlock_restrict_self", errno);
  g_report.fsRestricted = true;
  if (flags & LANDLOCK_RESTRICT_SELF_TSYNC) {
    g_report.landlock = "enforced";
  } else {
    // Below ABI 8 the domain covers this thread and what it starts from now
    // on. Threads started since the addon loaded (libuv's pool, onnxruntime)
    // were refused above; Node's start-up threads run V8 tasks (GC,
    // compilation), never a file-system call JavaScript asks for.
    g_report.landlock = "partial";
    g_report.threadsOutsideLandlock = otherThreads;
    g_report.missing.push_back("Landlock TSYNC (ABI 8): " + std::to_string(g_report.threadsOutsideLandlock) +
                               " Node start-up thread(s) (V8 platform) stay outside Landlock, under seccomp");
  }
}

// Below ABI 8 a thread that already runs keeps its (absent) Landlock domain: a
// libuv pool thread would then open any file for fs.promises. Refuse before
// anything is installed.
void CheckLateThreads(Napi::Env env) {
  const int abi = LandlockAbi(env);
  if (abi == 0 || abi >= 8) return;
  std::vector<long> late;
  for (const long tid : ThreadIds()) {
    if (tid != static_cast<long>(syscall(SYS_gettid)) && g_startupThreads.count(tid) == 0) late.push_back(tid);
  }
  if (late.empty()) return;
  Fail(env, std::to_string(late.size()) + " thread(s) started after the addon loaded and before the seal (libuv's pool? " +
                "onnxruntime?) would stay outside Landlock on ABI " + std::to_string(abi) + " (< 8): seal before any " +
                "asynchronous work",
       0);
}

// --- JS entry points -----------------------------------------------------------

Napi::Value Seal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (g_state == State::kSealed) return ToJs(env, g_report);  // idempotent: never widened nor stacked
  if (g_state == State::kBroken) Fail(env, "an earlier seal attempt failed half-way; the process must exit", 0);
  if (info.Length() != 1 || !info[0].IsObject()) Fail(env, "expects { readablePaths, writablePaths, tcpConnectPorts? }", 0);
  Napi::Object options = info[0].As<Napi::Object>();
  const std::vector<std::string> writablePaths = StringArray(env, options, "writablePaths");
  const std::vector<std::string> readablePaths = StringArray(env, options, "readablePaths");
  std::vector<uint16_t> ports;
  const bool tcpClient = TcpPorts(env, options, &ports);
  std::vector<PathRule> rules;
  OpenRules(env, readablePaths, false, &rules);
  OpenRules(env, writablePaths, true, &rules);
  // spawn with stdio 'ignore' opens /dev/null O_RDWR in a child.
  OpenRules(env, {"/dev/null"}, true, &rules);
  CheckLateThreads(env);

  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(env, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  g_report.noNewPrivs = true;
  g_report.network = tcpClient ? "tcp-ports" : "none";
  InstallSeccomp(env, tcpClient);
  g_report.seccomp = true;
  g_state = State::kBroken;  // until the rest succeeds
  CheckDescriptors(env);
  InstallLandlock(env, rules, tcpClient, ports);
  g_state = State::kSealed;
  return ToJs(env, g_report);
}

Napi::Value SealStatus(const Napi::CallbackInfo& info) { return ToJs(info.Env(), g_report); }

}  // namespace

void RegisterSeal(Napi::Env env, Napi::Object exports) {
  if (g_startupThreads.empty()) g_startupThreads = ThreadIds();
  exports.Set("seal", Napi::Function::New(env, Seal, "seal"));
  exports.Set("sealStatus", Napi::Function::New(env, SealStatus, "sealStatus"));
}

}  // namespace aibridge
