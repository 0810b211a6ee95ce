// Two measurements of one core for scripts/bench.sh, both in cycles of the clock it measures itself.
//
//   cpu_clock              the clock in GHz, for the FMA peak: a chain of dependent integer
//                          additions retires one per cycle on every x86-64 core, so additions per
//                          second is cycles per second. Best of 7 rounds of 4·10⁸ additions (about
//                          0.15 s each), so a round the scheduler interrupted does not count.
//   cpu_clock --l1-loads   how many 32-byte loads from L1 the core completes per cycle (median of 9
//                          rounds of 1.6·10⁷ loads from an 8 KiB buffer, after a clock measurement).
//                          An uncontended Zen 3 or Skylake core does 2. On a virtual machine whose
//                          core's other hardware thread runs another guest, the two threads share
//                          the load ports, and this drops (1.0–1.5 measured here) while a register-only
//                          FMA loop keeps its full rate: code that streams W from L1, as the kernels
//                          do, slows with it. bench.sh runs it right before each single-thread run.
//
// Build: cc -O2 cpu_clock.c -o cpu_clock (the loads are written in assembly, so no -mavx is needed;
// --l1-loads needs a CPU with AVX, which bench.sh checks first).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

// GHz from the best of `rounds` chains of `additions` dependent additions.
static double measure_clock(int rounds, uint64_t additions) {
    double best = 0;
    for (int round = 0; round < rounds; round++) {
        uint64_t x = 0;
        double start = seconds_now();
        for (uint64_t i = 0; i < additions; i += 8) {
            // Eight additions, each waiting for the one before (the loop counter runs beside them).
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
        }
        double gigahertz = (double)additions / (seconds_now() - start) / 1e9;
        if (gigahertz > best) best = gigahertz;
    }
    return best;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// 32-byte loads per cycle from an L1-resident buffer: eight independent loads per iteration, no
// other work than the loop's three instructions.
static double measure_l1_loads(double gigahertz) {
    static float buffer[2048] __attribute__((aligned(64)));
    for (int i = 0; i < 2048; i++) buffer[i] = (float)i;
    enum { rounds = 9 };
    double per_cycle[rounds];
    const long iterations = 2000000;
    for (int round = 0; round < rounds; round++) {
        double start = seconds_now();
        __asm__ volatile("mov %0, %%rcx\n\txor %%eax, %%eax\n"
                         "1:\n\t"
                         "vmovups (%1,%%rax), %%ymm0\n\tvmovups 32(%1,%%rax), %%ymm1\n\t"
                         "vmovups 64(%1,%%rax), %%ymm2\n\tvmovups 96(%1,%%rax), %%ymm3\n\t"
                         "vmovups 128(%1,%%rax), %%ymm4\n\tvmovups 160(%1,%%rax), %%ymm5\n\t"
                         "vmovups 192(%1,%%rax), %%ymm6\n\tvmovups 224(%1,%%rax), %%ymm7\n\t"
                         "add $256, %%rax\n\tand $8191, %%rax\n\tdec %%rcx\n\tjnz 1b\n\tvzeroupper"
                         :
                         : "r"(iterations), "r"(buffer)
                         : "rax", "rcx", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "memory");
        double cycles = (seconds_now() - start) * gigahertz * 1e9;
        per_cycle[round] = 8.0 * (double)iterations / cycles;
    }
    qsort(per_cycle, rounds, sizeof per_cycle[0], compare_doubles);
    return per_cycle[rounds / 2];
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--l1-loads") == 0) {
        printf("%.2f\n", measure_l1_loads(measure_clock(3, 40000000ULL)));
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: cpu_clock [--l1-loads]\n");
        return 64;
    }
    printf("%.3f\n", measure_clock(7, 400000000ULL));
    return 0;
}
