package seccomp

// dockerDenied are the syscalls Docker's default profile refuses to a container holding
// Docker's default capabilities. That includes io_uring since Docker 25 (moby#46762): its
// rings perform I/O that seccomp never sees, and it has been a steady source of kernel
// exploits. Like Docker, the answer is EPERM, which io_uring users (liburing, libuv, Tokio)
// take as "fall back to epoll".
var dockerDenied = []string{
	"acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick",
	"get_kernel_syms", "get_mempolicy", "init_module", "io_uring_enter", "io_uring_register",
	"io_uring_setup", "ioperm", "iopl", "kcmp",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount",
	"mount_setattr", "move_mount", "move_pages", "name_to_handle_at", "nfsservctl",
	"open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "quotactl",
	"quotactl_fd", "reboot", "request_key", "set_mempolicy", "setns", "settimeofday",
	"stime", "swapoff", "swapon", "sysfs", "_sysctl", "syslog", "umount", "umount2",
	"unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old",
}

// moderateDenied are added on top of dockerDenied by the moderate profile.
var moderateDenied = []string{"ptrace", "process_vm_readv", "process_vm_writev"}

// restrictiveAllowed is what ordinary userland (Go, glibc and musl programs, Python, Node,
// shells, coreutils) needs, and nothing that administers the kernel, traces other
// processes or makes namespaces.
var restrictiveAllowed = []string{
	// files and descriptors
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
	"pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "lseek", "_llseek",
	"dup", "dup2", "dup3", "fcntl", "fcntl64", "ioctl", "pipe", "pipe2", "stat", "stat64",
	"fstat", "fstat64", "lstat", "lstat64", "newfstatat", "fstatat64", "statx", "statfs",
	"statfs64", "fstatfs", "fstatfs64", "access", "faccessat", "faccessat2", "getdents",
	"getdents64", "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "rename",
	"renameat", "renameat2", "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat",
	"readlink", "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
	"lchown", "fchownat", "chown32", "fchown32", "lchown32", "umask", "utime", "utimes",
	"utimensat", "futimesat", "truncate", "truncate64", "ftruncate", "ftruncate64",
	"fallocate", "fadvise64", "fadvise64_64", "sendfile", "sendfile64", "copy_file_range",
	"splice", "tee", "vmsplice", "sync", "syncfs", "fsync", "fdatasync", "sync_file_range",
	"flock", "mknod", "mknodat", "memfd_create", "getxattr", "lgetxattr", "fgetxattr",
	"setxattr", "lsetxattr", "fsetxattr", "listxattr", "llistxattr", "flistxattr",
	"removexattr", "lremovexattr", "fremovexattr", "inotify_init", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch",
	// memory
	"brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mlock", "mlock2",
	"munlock", "mlockall", "munlockall", "mincore", "msync", "membarrier", "pkey_alloc",
	"pkey_free", "pkey_mprotect", "remap_file_pages",
	// processes and threads
	"fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid",
	"kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "getpgid", "getpgrp", "setpgid",
	"getsid", "setsid", "getuid", "geteuid", "getgid", "getegid", "getuid32", "geteuid32",
	"getgid32", "getegid32", "getresuid", "getresgid", "getresuid32", "getresgid32",
	"getgroups", "getgroups32", "setuid", "setgid", "setreuid", "setregid", "setresuid",
	"setresgid", "setuid32", "setgid32", "setreuid32", "setregid32", "setresuid32",
	"setresgid32", "setgroups", "setgroups32", "setfsuid", "setfsgid", "setfsuid32",
	"setfsgid32", "capget", "capset", "prctl", "arch_prctl", "set_tid_address",
	"set_robust_list", "get_robust_list", "rseq", "futex", "futex_time64", "futex_waitv",
	"sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getparam",
	"sched_setparam", "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max",
	"sched_get_priority_min", "sched_rr_get_interval", "sched_rr_get_interval_time64",
	"sched_getattr", "sched_setattr", "getpriority", "setpriority", "getrlimit", "ugetrlimit",
	"setrlimit", "prlimit64", "getrusage", "times", "personality", "pidfd_open",
	"pidfd_send_signal", "pidfd_getfd", "ioprio_get", "ioprio_set",
	// signals
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
	"rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
	"sigaction", "sigprocmask", "sigreturn", "sigaltstack", "signal", "signalfd", "signalfd4",
	"pause", "alarm",
	// time
	"clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64",
	"clock_nanosleep", "clock_nanosleep_time64", "nanosleep", "gettimeofday", "time",
	"timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
	"timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
	"timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "getitimer", "setitimer",
	// waiting and events
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
	"poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64",
	"eventfd", "eventfd2",
	// sockets
	"socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname",
	"getpeername", "getsockopt", "setsockopt", "shutdown", "sendto", "recvfrom", "sendmsg",
	"recvmsg", "sendmmsg", "recvmmsg", "recvmmsg_time64", "socketcall",
	// system information
	"uname", "sysinfo", "getrandom", "getcpu", "set_thread_area", "get_thread_area",
	"restart_syscall", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semctl",
	"semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink",
	"mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "io_setup", "io_destroy",
	"io_getevents", "io_submit", "io_cancel", "io_pgetevents",
}
