/* SPDX-License-Identifier: MIT
 * LD_PRELOAD shim for the realtime test: counts calls to allocators, locks, sleeps, file,
 * socket and stdio functions made by a thread while its guard is on (cn_rt_guard(1)).
 * Never changes what the calls do; it only counts them.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

enum { F_MALLOC, F_CALLOC, F_REALLOC, F_FREE, F_MEMALIGN, F_MUTEX, F_TRYLOCK, F_RWLOCK,
       F_CONDWAIT, F_SEMWAIT, F_SLEEP, F_OPEN, F_FOPEN, F_READ, F_WRITE, F_SOCKET, F_SEND,
       F_RECV, F_POLL, F_STDIO, F_N };
static const char *s_names[F_N] = { "malloc", "calloc", "realloc", "free", "memalign",
    "pthread_mutex_lock", "pthread_mutex_trylock", "pthread_rwlock", "pthread_cond_wait",
    "sem_wait", "sleep", "open", "fopen", "read", "write", "socket/connect", "send", "recv",
    "poll/select", "stdio print" };
static atomic_long s_count[F_N];
static _Thread_local int s_guard;

__attribute__((visibility("default"))) void cn_rt_guard(int on) { s_guard = on; }
__attribute__((visibility("default"))) void cn_rt_reset(void)
{
    for (int i = 0; i < F_N; i++)
        atomic_store(&s_count[i], 0);
}
/* Total calls seen under a guard; writes "name=count ..." for the non-zero ones. */
__attribute__((visibility("default"))) long cn_rt_report(char *buf, size_t n)
{
    long total = 0;
    size_t at = 0;
    if (n)
        buf[0] = '\0';
    for (int i = 0; i < F_N; i++) {
        long c = atomic_load(&s_count[i]);
        total += c;
        if (c && at < n)
            at += (size_t)snprintf(buf + at, n - at, "%s=%ld ", s_names[i], c);
    }
    return total;
}

static inline void s_hit(int f)
{
    if (s_guard)
        atomic_fetch_add(&s_count[f], 1);
}

#define REAL(ret, name, ...)                                                   \
    static ret (*real_##name)(__VA_ARGS__);                                    \
    if (!real_##name)                                                          \
        real_##name = (ret (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

void *malloc(size_t n) { s_hit(F_MALLOC); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { s_hit(F_CALLOC); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { s_hit(F_REALLOC); return __libc_realloc(p, n); }
void free(void *p) { s_hit(F_FREE); __libc_free(p); }
void *memalign(size_t a, size_t n) { s_hit(F_MEMALIGN); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { s_hit(F_MEMALIGN); return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n)
{
    s_hit(F_MEMALIGN);
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    s_hit(F_MUTEX);
    REAL(int, pthread_mutex_lock, pthread_mutex_t *);
    return real_pthread_mutex_lock(m);
}
int pthread_mutex_trylock(pthread_mutex_t *m)
{
    s_hit(F_TRYLOCK);
    REAL(int, pthread_mutex_trylock, pthread_mutex_t *);
    return real_pthread_mutex_trylock(m);
}
int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    s_hit(F_RWLOCK);
    REAL(int, pthread_rwlock_rdlock, pthread_rwlock_t *);
    return real_pthread_rwlock_rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    s_hit(F_RWLOCK);
    REAL(int, pthread_rwlock_wrlock, pthread_rwlock_t *);
    return real_pthread_rwlock_wrlock(l);
}
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    s_hit(F_CONDWAIT);
    REAL(int, pthread_cond_wait, pthread_cond_t *, pthread_mutex_t *);
    return real_pthread_cond_wait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    s_hit(F_CONDWAIT);
    REAL(int, pthread_cond_timedwait, pthread_cond_t *, pthread_mutex_t *,
         const struct timespec *);
    return real_pthread_cond_timedwait(c, m, t);
}
int sem_wait(sem_t *s)
{
    s_hit(F_SEMWAIT);
    REAL(int, sem_wait, sem_t *);
    return real_sem_wait(s);
}
int nanosleep(const struct timespec *a, struct timespec *b)
{
    s_hit(F_SLEEP);
    REAL(int, nanosleep, const struct timespec *, struct timespec *);
    return real_nanosleep(a, b);
}
int clock_nanosleep(clockid_t c, int f, const struct timespec *a, struct timespec *b)
{
    s_hit(F_SLEEP);
    REAL(int, clock_nanosleep, clockid_t, int, const struct timespec *, struct timespec *);
    return real_clock_nanosleep(c, f, a, b);
}
int usleep(useconds_t u)
{
    s_hit(F_SLEEP);
    REAL(int, usleep, useconds_t);
    return real_usleep(u);
}
int open(const char *p, int fl, ...)
{
    s_hit(F_OPEN);
    va_list ap;
    va_start(ap, fl);
    mode_t m = (fl & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    REAL(int, open, const char *, int, ...);
    return real_open(p, fl, m);
}
int openat(int d, const char *p, int fl, ...)
{
    s_hit(F_OPEN);
    va_list ap;
    va_start(ap, fl);
    mode_t m = (fl & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    REAL(int, openat, int, const char *, int, ...);
    return real_openat(d, p, fl, m);
}
FILE *fopen(const char *p, const char *m)
{
    s_hit(F_FOPEN);
    REAL(FILE *, fopen, const char *, const char *);
    return real_fopen(p, m);
}
ssize_t read(int fd, void *b, size_t n)
{
    s_hit(F_READ);
    REAL(ssize_t, read, int, void *, size_t);
    return real_read(fd, b, n);
}
ssize_t write(int fd, const void *b, size_t n)
{
    s_hit(F_WRITE);
    REAL(ssize_t, write, int, const void *, size_t);
    return real_write(fd, b, n);
}
int socket(int a, int b, int c)
{
    s_hit(F_SOCKET);
    REAL(int, socket, int, int, int);
    return real_socket(a, b, c);
}
int connect(int s, const struct sockaddr *a, socklen_t l)
{
    s_hit(F_SOCKET);
    REAL(int, connect, int, const struct sockaddr *, socklen_t);
    return real_connect(s, a, l);
}
ssize_t send(int s, const void *b, size_t n, int f)
{
    s_hit(F_SEND);
    REAL(ssize_t, send, int, const void *, size_t, int);
    return real_send(s, b, n, f);
}
ssize_t sendto(int s, const void *b, size_t n, int f, const struct sockaddr *a, socklen_t l)
{
    s_hit(F_SEND);
    REAL(ssize_t, sendto, int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    return real_sendto(s, b, n, f, a, l);
}
ssize_t sendmsg(int s, const struct msghdr *m, int f)
{
    s_hit(F_SEND);
    REAL(ssize_t, sendmsg, int, const struct msghdr *, int);
    return real_sendmsg(s, m, f);
}
ssize_t recv(int s, void *b, size_t n, int f)
{
    s_hit(F_RECV);
    REAL(ssize_t, recv, int, void *, size_t, int);
    return real_recv(s, b, n, f);
}
ssize_t recvfrom(int s, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
    s_hit(F_RECV);
    REAL(ssize_t, recvfrom, int, void *, size_t, int, struct sockaddr *, socklen_t *);
    return real_recvfrom(s, b, n, f, a, l);
}
ssize_t recvmsg(int s, struct msghdr *m, int f)
{
    s_hit(F_RECV);
    REAL(ssize_t, recvmsg, int, struct msghdr *, int);
    return real_recvmsg(s, m, f);
}
int poll(struct pollfd *p, nfds_t n, int t)
{
    s_hit(F_POLL);
    REAL(int, poll, struct pollfd *, nfds_t, int);
    return real_poll(p, n, t);
}
int select(int n, fd_set *a, fd_set *b, fd_set *c, struct timeval *t)
{
    s_hit(F_POLL);
    REAL(int, select, int, fd_set *, fd_set *, fd_set *, struct timeval *);
    return real_select(n, a, b, c, t);
}
int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    s_hit(F_STDIO);
    REAL(int, vfprintf, FILE *, const char *, va_list);
    return real_vfprintf(f, fmt, ap);
}
int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}
int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}
int puts(const char *s)
{
    s_hit(F_STDIO);
    REAL(int, puts, const char *);
    return real_puts(s);
}
int fputs(const char *s, FILE *f)
{
    s_hit(F_STDIO);
    REAL(int, fputs, const char *, FILE *);
    return real_fputs(s, f);
}
size_t fwrite(const void *p, size_t a, size_t b, FILE *f)
{
    s_hit(F_STDIO);
    REAL(size_t, fwrite, const void *, size_t, size_t, FILE *);
    return real_fwrite(p, a, b, f);
}
int __vfprintf_chk(FILE *f, int fl, const char *fmt, va_list ap)
{
    s_hit(F_STDIO);
    REAL(int, __vfprintf_chk, FILE *, int, const char *, va_list);
    return real___vfprintf_chk(f, fl, fmt, ap);
}
int __fprintf_chk(FILE *f, int fl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(f, fl, fmt, ap);
    va_end(ap);
    return r;
}
int __printf_chk(int fl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __vfprintf_chk(stdout, fl, fmt, ap);
    va_end(ap);
    return r;
}
int open64(const char *p, int fl, ...)
{
    s_hit(F_OPEN);
    va_list ap;
    va_start(ap, fl);
    mode_t m = (fl & O_CREAT) ? va_arg(ap, mode_t) : 0;
    va_end(ap);
    REAL(int, open64, const char *, int, ...);
    return real_open64(p, fl, m);
}
FILE *fopen64(const char *p, const char *m)
{
    s_hit(F_FOPEN);
    REAL(FILE *, fopen64, const char *, const char *);
    return real_fopen64(p, m);
}
