// Kernel seal of the bridge's sandboxed processes: the de-identification
// worker, the annotator and the uplink (see README "Threat model").
//
// seal({ readablePaths, writablePaths, tcpConnectPorts? }) installs, in order:
//   0. checks (nothing installed yet): every path opens; below Landlock ABI 8,
//      no thread started since the addon loaded (it would escape Landlock);
//   1. prctl(PR_SET_NO_NEW_PRIVS, 1);
//   2. a seccomp BPF filter on every thread (SECCOMP_FILTER_FLAG_TSYNC):
//      socket/socketpair/connect/bind/listen/accept fail with EACCES (with
//      tcpConnectPorts: AF_INET/AF_INET6 TCP client sockets and connect are
//      allowed); sendmsg/recvmsg/sendmmsg/recvmmsg fail with EPERM (no
//      SCM_RIGHTS); io_uring with ENOSYS; execve/execveat with EACCES;
//      ptrace, process_vm_readv/writev, pidfd_getfd, kcmp, bpf,
//      perf_event_open, keyrings and userfaultfd with EPERM; a syscall of a
//      foreign ABI (i386 int 0x80, x32) kills the process;
//   3. after the filter: the process may hold no socket but connected AF_UNIX
//      ones, and no io_uring instance;
//   4. Landlock, where the kernel has it: reads beneath readablePaths, reads
//      and writes beneath writablePaths and /dev/null, nothing else (execute
//      nowhere); TCP bind refused and connect only to tcpConnectPorts (ABI 4);
//      abstract UNIX sockets and signals scoped (ABI 6). Without
//      LANDLOCK_RESTRICT_SELF_TSYNC (ABI 8) the domain covers the calling
//      thread and everything it creates later, not Node's start-up threads:
//      the report says 'partial' and counts them.
//
// Errors are JS Errors with code 'AIB_SEAL_FAILED'. A failure after step 1
// leaves the process partly sealed: the caller must exit.
#pragma once

#include <napi.h>

namespace aibridge {

void RegisterSeal(Napi::Env env, Napi::Object exports);

}  // namespace aibridge
