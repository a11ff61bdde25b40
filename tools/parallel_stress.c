/* parallel_stress.c — the thread pool (csrc/kernels/parallel.c) under a race detector.
 *
 *   make race    builds this with -fsanitize=thread and runs it (any report fails it)
 *   or: gcc -O1 -g -std=c11 -pthread -Icsrc tools/parallel_stress.c csrc/kernels/parallel.c
 *       && valgrind --tool=helgrind --child-silent-after-fork=yes ./a.out
 *
 * Two callers at once (one owns the pool, the other runs inline), nested loops (inline),
 * the thread count changing between loops, and a fork() whose child uses the pool after
 * the parent's workers ran. Each loop checks that every item ran exactly once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernels/parallel.h"

#define MAX_ITEMS 100000
#define ROUNDS 300

static int failed;              /* what a failing caller returns a pointer to */

static void
add_one(void *ctx, pc_index i0, pc_index i1)
{
    int *count = ctx;
    for (pc_index i = i0; i < i1; i++)
        count[i] += 1;
}

/* each item once, plus a nested loop over the block, which must run inline */
static void
visit(void *ctx, pc_index i0, pc_index i1)
{
    int *count = ctx;
    for (pc_index i = i0; i < i1; i++)
        count[i] += 1;
    pc_parallel_for(i1 - i0, 1, add_one, count + i0);
}

/* 0 when every loop visited each item exactly twice (once, and once nested) */
static void *
caller(void *arg)
{
    long seed = (long)arg, bad = 0;
    int *count = malloc(MAX_ITEMS * sizeof(int));
    if (count == NULL)
        return &failed;
    for (int r = 0; r < ROUNDS; r++) {
        pc_index n = 1000 + (r * 7919 + seed * 104729) % (MAX_ITEMS - 1000);
        for (pc_index i = 0; i < n; i++)
            count[i] = 0;
        pc_parallel_for(n, 64, visit, count);
        for (pc_index i = 0; i < n; i++)
            bad += count[i] != 2;
        if (r % 50 == 0)
            pc_set_num_threads(2 + (r / 50) % 3);
    }
    free(count);
    return bad != 0 ? &failed : NULL;
}

int
main(void)
{
    pthread_t t[2];
    void *bad[2] = {&failed, &failed};
    int status = 0;
    pid_t pid;

    pc_set_num_threads(3);
    for (long i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, caller, (void *)i) != 0)
            return 1;
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], &bad[i]);
    if ((pid = fork()) < 0)
        return 1;
    if (pid == 0)
        _exit(caller((void *)7) != NULL);
    if (waitpid(pid, &status, 0) != pid)
        return 1;
    printf("parallel_stress: callers %s, %s; forked child %s\n", bad[0] ? "FAILED" : "ok",
           bad[1] ? "FAILED" : "ok", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok"
                                                                                 : "FAILED");
    return bad[0] || bad[1] || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
