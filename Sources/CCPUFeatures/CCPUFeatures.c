#include "CCPUFeatures.h"

#if defined(__x86_64__)
#include <cpuid.h>

// XCR0: which register states the OS saves on a context switch. AVX needs the SSE and AVX
// states (bits 1, 2); AVX-512 also the opmask and the upper ZMM states (bits 5, 6, 7).
static uint64_t enabled_register_states(void) {
    uint32_t low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((uint64_t)high << 32) | low;
}

uint32_t mnist_softmax_cpu_features(void) {
    unsigned int eax, ebx, ecx, edx;
    uint32_t features = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    if (ecx & bit_SSE3) features |= MNIST_SOFTMAX_CPU_SSE3;
    if (ecx & bit_SSSE3) features |= MNIST_SOFTMAX_CPU_SSSE3;
    if (ecx & bit_SSE4_1) features |= MNIST_SOFTMAX_CPU_SSE4_1;
    if (ecx & bit_SSE4_2) features |= MNIST_SOFTMAX_CPU_SSE4_2;
    if (ecx & bit_POPCNT) features |= MNIST_SOFTMAX_CPU_POPCNT;
    if (ecx & bit_CMPXCHG16B) features |= MNIST_SOFTMAX_CPU_CX16;
    if (ecx & bit_MOVBE) features |= MNIST_SOFTMAX_CPU_MOVBE;
    int os_avx = 0, os_avx512 = 0;
    if (ecx & bit_OSXSAVE) {
        uint64_t states = enabled_register_states();
        os_avx = (states & 0x6) == 0x6;
        os_avx512 = os_avx && (states & 0xE0) == 0xE0;
    }
    if (os_avx) {
        if (ecx & bit_AVX) features |= MNIST_SOFTMAX_CPU_AVX;
        if (ecx & bit_FMA) features |= MNIST_SOFTMAX_CPU_FMA;
        if (ecx & bit_F16C) features |= MNIST_SOFTMAX_CPU_F16C;
    }
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        if (ebx & bit_BMI) features |= MNIST_SOFTMAX_CPU_BMI1;
        if (ebx & bit_BMI2) features |= MNIST_SOFTMAX_CPU_BMI2;
        if (os_avx && (ebx & bit_AVX2)) features |= MNIST_SOFTMAX_CPU_AVX2;
        if (os_avx512) {
            if (ebx & bit_AVX512F) features |= MNIST_SOFTMAX_CPU_AVX512F;
            if (ebx & bit_AVX512BW) features |= MNIST_SOFTMAX_CPU_AVX512BW;
            if (ebx & bit_AVX512CD) features |= MNIST_SOFTMAX_CPU_AVX512CD;
            if (ebx & bit_AVX512DQ) features |= MNIST_SOFTMAX_CPU_AVX512DQ;
            if (ebx & bit_AVX512VL) features |= MNIST_SOFTMAX_CPU_AVX512VL;
        }
    }
    if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & bit_LZCNT)) features |= MNIST_SOFTMAX_CPU_LZCNT;
    return features;
}
#else
uint32_t mnist_softmax_cpu_features(void) { return 0; }
#endif
