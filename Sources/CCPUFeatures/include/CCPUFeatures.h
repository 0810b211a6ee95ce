// The x86-64 instruction sets this CPU has and the OS has enabled, from CPUID and XGETBV, as
// bits of MNIST_SOFTMAX_CPU_*. 0 on other architectures. Compiled for the baseline CPU: it is what
// runs before anything that needs more.
#include <stdint.h>

#define MNIST_SOFTMAX_CPU_SSE3 0x1u
#define MNIST_SOFTMAX_CPU_SSSE3 0x2u
#define MNIST_SOFTMAX_CPU_SSE4_1 0x4u
#define MNIST_SOFTMAX_CPU_SSE4_2 0x8u
#define MNIST_SOFTMAX_CPU_POPCNT 0x10u
#define MNIST_SOFTMAX_CPU_CX16 0x20u
#define MNIST_SOFTMAX_CPU_AVX 0x40u
#define MNIST_SOFTMAX_CPU_AVX2 0x80u
#define MNIST_SOFTMAX_CPU_FMA 0x100u
#define MNIST_SOFTMAX_CPU_F16C 0x200u
#define MNIST_SOFTMAX_CPU_BMI1 0x400u
#define MNIST_SOFTMAX_CPU_BMI2 0x800u
#define MNIST_SOFTMAX_CPU_LZCNT 0x1000u
#define MNIST_SOFTMAX_CPU_MOVBE 0x2000u
#define MNIST_SOFTMAX_CPU_AVX512F 0x4000u
#define MNIST_SOFTMAX_CPU_AVX512BW 0x8000u
#define MNIST_SOFTMAX_CPU_AVX512CD 0x10000u
#define MNIST_SOFTMAX_CPU_AVX512DQ 0x20000u
#define MNIST_SOFTMAX_CPU_AVX512VL 0x40000u

uint32_t mnist_softmax_cpu_features(void);
