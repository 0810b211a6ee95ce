// Prints the clock one core runs at, in GHz, for scripts/bench.sh's FMA peak: a chain of
// dependent integer additions retires one per cycle on every x86-64 core, so additions per
// second is cycles per second. Best of 7 rounds of 4·10⁸ additions (about 0.15 s each), so a
// round the scheduler interrupted does not count. Build: cc -O2 cpu_clock.c -o cpu_clock
#include <stdint.h>
#include <stdio.h>
#include <time.h>

int main(void) {
    double best = 0;
    for (int round = 0; round < 7; round++) {
        struct timespec start, end;
        uint64_t x = 0;
        const uint64_t additions = 400000000ULL;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (uint64_t i = 0; i < additions; i += 8) {
            // Eight additions, each waiting for the one before (the loop counter runs beside them).
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
        }
        clock_gettime(CLOCK_MONOTONIC, &end);
        double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) * 1e-9;
        double gigahertz = (double)additions / seconds / 1e9;
        if (gigahertz > best) best = gigahertz;
    }
    printf("%.3f\n", best);
    return 0;
}
