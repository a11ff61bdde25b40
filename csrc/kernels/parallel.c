/* parallel.c — the thread pool behind pc_parallel_for (see parallel.h).
 *
 * One job at a time. The caller that wins `busy` posts the job under `lock`; then it
 * and at most `helpers` workers take blocks [next, next + block) under the lock until
 * none is left, run them unlocked, and count them off in `unfinished`; the caller
 * returns once that is 0. Because a block is only ever taken under the lock while
 * next < n, a worker that wakes late finds nothing to do and never touches a job
 * that has gone; and because the caller takes blocks too, a worker that never wakes
 * (the other core is busy, or thread creation failed) costs time, never a hang.
 *
 * Failure handling: thread creation, signal masks and pthread_atfork are checked
 * and fall back to running inline. The mutex is a default one that this file always
 * locks and unlocks in pairs, so lock/unlock cannot fail (POSIX lists only EINVAL,
 * EAGAIN for recursive mutexes, EDEADLK for error-checking ones, EOWNERDEAD for
 * robust ones); they are still checked where a fallback exists.
 */
#define _GNU_SOURCE             /* sched_getaffinity, CPU_COUNT */
#include "parallel.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* More blocks than threads, so a thread that starts late (the core is shared with
 * OpenBLAS's threads and other processes) leaves its share to the others */
#define BLOCKS_PER_THREAD 4

/* Before sleeping, a worker watches for the next job and the caller for the last
 * block this long: waking a sleeping thread costs tens of µs on a VM (an IPI), a
 * large share of a 100 µs pass; longer spins would take the core from OpenBLAS. */
#define WORKER_SPIN_NS 50000
#define CALLER_SPIN_NS 200000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_posted = PTHREAD_COND_INITIALIZER;  /* workers wait here */
static pthread_cond_t work_done = PTHREAD_COND_INITIALIZER;    /* the caller waits here */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static struct {                 /* the current job; every field under lock */
    pc_parallel_fn fn;          /* NULL: no job */
    void *ctx;
    pc_index n, block, next;    /* blocks [next, next + block) are still to take */
    _Atomic pc_index unfinished;   /* blocks not yet done (changed under lock only) */
    int helpers, joined;        /* workers allowed in, and in so far */
} job;
static int n_workers;           /* started; under lock */
static int atfork_ok;           /* pthread_atfork registered: workers may start */
static atomic_int busy;         /* 1 while a caller owns the pool */
static atomic_ulong posted;     /* jobs posted so far: what spinning workers watch */
static atomic_int num_threads;  /* 0: not yet read from the environment */
static _Thread_local int in_region;     /* a worker, or a caller running its job */

/* ---- thread count ------------------------------------------------------------------ */

static int
clamp_threads(long v)
{
    return v < 1 ? 1 : v > PC_MAX_THREADS ? PC_MAX_THREADS : (int)v;
}

/* A positive integer, optionally followed by a ',' list (OMP_NUM_THREADS) or blanks */
static int
env_threads(const char *name)
{
    const char *s = getenv(name);
    char *end;
    long v;
    if (s == NULL || *s == '\0')
        return 0;
    v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == s || v < 1 || (*end != '\0' && *end != ','))
        return 0;
    return clamp_threads(v);
}

static int
default_threads(void)
{
    int t = env_threads("PYCNN_NUM_THREADS");
    cpu_set_t set;
    long online;
    if (t == 0)
        t = env_threads("OMP_NUM_THREADS");
    if (t > 0)
        return t;
    if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        return clamp_threads(CPU_COUNT(&set));
    online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? clamp_threads(online) : 1;
}

int
pc_get_num_threads(void)
{
    int t = atomic_load(&num_threads), unset = 0;
    if (t > 0)
        return t;
    atomic_compare_exchange_strong(&num_threads, &unset, default_threads());
    return atomic_load(&num_threads);
}

int
pc_set_num_threads(int n)
{
    if (n < 1 || n > PC_MAX_THREADS)
        return -1;
    atomic_store(&num_threads, n);
    return 0;
}

/* ---- fork: the child has no workers and a fresh, unlocked pool ----------------------- */

static void
before_fork(void)
{
    (void)pthread_mutex_lock(&lock);        /* the job state is consistent while forking */
}

static void
after_fork_parent(void)
{
    (void)pthread_mutex_unlock(&lock);
}

static void
after_fork_child(void)
{
    pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cond = PTHREAD_COND_INITIALIZER;
    lock = fresh_lock;          /* only this thread exists: nobody else holds them */
    work_posted = fresh_cond;
    work_done = fresh_cond;
    job.fn = NULL;
    n_workers = 0;
    atomic_store(&busy, 0);
}

static void
register_atfork(void)
{
    atfork_ok = pthread_atfork(before_fork, after_fork_parent, after_fork_child) == 0;
}

/* ---- the pool ----------------------------------------------------------------------- */

static void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long long
now_ns(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_MONOTONIC, &t) != 0)
        return 0;               /* no clock: the spins below end at once */
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Spins (lock NOT held) until no new job was posted since `seen` (worker) or the
 * blocks are all done (caller, seen = 0), or ns have passed */
static void
spin(int worker, unsigned long seen, long long ns)
{
    long long end = now_ns() + ns;
    for (;;) {
        if (worker ? atomic_load(&posted) != seen : atomic_load(&job.unfinished) == 0)
            return;
        for (int i = 0; i < 64; i++)
            cpu_relax();
        if (now_ns() >= end)
            return;
    }
}

/* Takes and runs blocks until none is left; lock held on entry and on return */
static void
run_blocks(void)
{
    while (job.fn != NULL && job.next < job.n) {
        pc_parallel_fn fn = job.fn;
        void *ctx = job.ctx;
        pc_index i0 = job.next, i1 = job.n - i0 > job.block ? i0 + job.block : job.n;
        job.next = i1;
        (void)pthread_mutex_unlock(&lock);
        fn(ctx, i0, i1);
        (void)pthread_mutex_lock(&lock);
        if (--job.unfinished == 0)
            (void)pthread_cond_signal(&work_done);
    }
}

static void *
worker_main(void *arg)
{
    (void)arg;
    int spun = 0;
    in_region = 1;              /* a parallel loop inside a block runs inline */
    if (pthread_mutex_lock(&lock) != 0)
        return NULL;
    for (;;) {
        if (job.fn != NULL && job.next < job.n && job.joined < job.helpers) {
            job.joined++;
            run_blocks();
            spun = 0;
            continue;
        }
        if (!spun) {            /* the next job often follows within µs */
            unsigned long seen = atomic_load(&posted);
            (void)pthread_mutex_unlock(&lock);
            spin(1, seen, WORKER_SPIN_NS);
            (void)pthread_mutex_lock(&lock);
            spun = 1;
            continue;
        }
        spun = 0;
        if (pthread_cond_wait(&work_posted, &lock) != 0)
            break;              /* cannot happen; the callers do the work without us */
    }
    (void)pthread_mutex_unlock(&lock);
    return NULL;
}

/* Starts workers (lock held) until there are `want`; returns how many there are, up
 * to want. Workers block every signal: Python handles them on the main thread. */
static int
start_workers(int want)
{
    if (pthread_once(&atfork_once, register_atfork) != 0 || !atfork_ok)
        return 0;               /* a forked child would believe it had workers */
    while (n_workers < want) {
        pthread_attr_t attr;
        pthread_t thread;
        sigset_t all, old;
        int ok;
        if (sigfillset(&all) != 0 || pthread_attr_init(&attr) != 0)
            break;
        ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_sigmask(SIG_SETMASK, &all, &old) == 0;
        if (ok) {
            ok = pthread_create(&thread, &attr, worker_main, NULL) == 0;
            (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        }
        (void)pthread_attr_destroy(&attr);
        if (!ok)
            break;
        n_workers++;
    }
    return n_workers < want ? n_workers : want;
}

void
pc_parallel_for(pc_index n, pc_index min_items, pc_parallel_fn fn, void *ctx)
{
    pc_index most = n / (min_items > 1 ? min_items : 1), blocks;  /* blocks ≥ min_items */
    int threads = pc_get_num_threads(), helpers, unowned = 0;

    if (most < 2 || threads < 2 || in_region ||
        !atomic_compare_exchange_strong(&busy, &unowned, 1)) {
        if (n > 0)
            fn(ctx, 0, n);
        return;
    }
    if (pthread_mutex_lock(&lock) != 0) {
        atomic_store(&busy, 0);
        fn(ctx, 0, n);
        return;
    }
    helpers = start_workers((most < threads ? (int)most : threads) - 1);
    blocks = (pc_index)(helpers + 1) * BLOCKS_PER_THREAD;
    blocks = blocks < most ? blocks : most;
    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    job.block = (n + blocks - 1) / blocks;
    job.next = 0;
    job.unfinished = (n + job.block - 1) / job.block;
    job.helpers = helpers;
    job.joined = 0;
    atomic_fetch_add(&posted, 1);
    for (int i = 0; i < helpers; i++)
        (void)pthread_cond_signal(&work_posted);
    in_region = 1;
    run_blocks();               /* with helpers = 0 this is the whole loop, inline */
    in_region = 0;
    if (job.unfinished > 0) {   /* a worker is finishing its last block */
        (void)pthread_mutex_unlock(&lock);
        spin(0, 0, CALLER_SPIN_NS);
        (void)pthread_mutex_lock(&lock);
    }
    while (job.unfinished > 0)
        if (pthread_cond_wait(&work_done, &lock) != 0) {   /* cannot happen: poll */
            (void)pthread_mutex_unlock(&lock);
            sched_yield();
            (void)pthread_mutex_lock(&lock);
        }
    job.fn = NULL;
    (void)pthread_mutex_unlock(&lock);
    atomic_store(&busy, 0);
}
