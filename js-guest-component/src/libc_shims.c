/* Replacements for the libc functions QuickJS reaches that would import WASI.
 *
 * The JS guest must import nothing but the `polybox:sandbox` interfaces, so
 * that the same artifact runs under wasmtime and inside a Hyperlight
 * micro-VM, which supplies no WASI. Defining these symbols here means the
 * linker never pulls wasi-libc's stdio, clock and assert objects (and their
 * `wasi:*` imports) into the component. Output goes to the host's log sink;
 * time comes from the `platform` interface. Both are implemented in Rust
 * (`platform.rs`). */
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <errno.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* Implemented in Rust: forwards one chunk of diagnostic text to the host. */
void polybox_debug_write(const char *ptr, size_t len);
/* Implemented in Rust: wall clock (ms since epoch) and monotonic clock (ns). */
double polybox_now_ms(void);
uint64_t polybox_monotonic_ns(void);

/* The syscall layer under stdio: whatever QuickJS prints through FILE
 * streams (debug dumps, `fprintf(stderr, ...)`) reaches the host's log. */
ssize_t write(int fd, const void *buf, size_t len) {
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    polybox_debug_write(buf, len);
    return (ssize_t)len;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt) {
    ssize_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (write(fd, iov[i].iov_base, iov[i].iov_len) < 0)
            return -1;
        total += (ssize_t)iov[i].iov_len;
    }
    return total;
}

int close(int fd) {
    (void)fd;
    return 0;
}

off_t __lseek(int fd, off_t offset, int whence) {
    (void)fd;
    (void)offset;
    (void)whence;
    errno = ESPIPE;
    return -1;
}

int __isatty(int fd) {
    (void)fd;
    return 0;
}

int printf(const char *restrict fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        polybox_debug_write(buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    return n;
}

int putchar(int c) {
    char ch = (char)c;
    polybox_debug_write(&ch, 1);
    return c;
}

int puts(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    polybox_debug_write(s, n);
    polybox_debug_write("\n", 1);
    return 0;
}

_Noreturn void __assert_fail(const char *expr, const char *file, int line, const char *func) {
    printf("QuickJS assertion failed: %s (%s:%d, %s)", expr, file, line, func);
    __builtin_trap();
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    (void)tz;
    double ms = polybox_now_ms();
    int64_t us = (int64_t)(ms * 1000.0);
    tv->tv_sec = us / 1000000;
    tv->tv_usec = us % 1000000;
    return 0;
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    uint64_t ns;
    if (clock == CLOCK_REALTIME)
        ns = (uint64_t)(polybox_now_ms() * 1e6);
    else
        ns = polybox_monotonic_ns();
    ts->tv_sec = (time_t)(ns / 1000000000u);
    ts->tv_nsec = (long)(ns % 1000000000u);
    return 0;
}
