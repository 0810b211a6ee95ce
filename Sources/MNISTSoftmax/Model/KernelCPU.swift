import CCPUFeatures

/// The instruction sets the numeric kernels (the MNISTKernels module) were compiled to use, and
/// whether the CPU this runs on has them.
///
/// The kernels are built for `$MNIST_SOFTMAX_TARGET_CPU`, by default the build machine's CPU
/// (see Package.swift); everything else, this check included, for any x86-64. Call `verify()`
/// before the first training, evaluation or prediction: on a CPU without those instruction sets
/// the kernels would die of an illegal instruction, and `verify()` throws an error that says what
/// is missing instead. The library's kernel-backed entry points check it too: `SoftmaxTrainer`
/// throws the same error, and the non-throwing ones (`Evaluation`, `probabilities`,
/// `lossAndGradient`) stop with its message.
public enum KernelCPU {
    /// The instruction sets the kernels need, in the order of the x86-64 levels (v2, v3, v4).
    /// Empty for a portable build.
    public static let requiredInstructionSets: [String] = {
        var sets: [String] = []
        #if KERNELS_SSE3
        sets.append("SSE3")
        #endif
        #if KERNELS_SSSE3
        sets.append("SSSE3")
        #endif
        #if KERNELS_SSE4_1
        sets.append("SSE4_1")
        #endif
        #if KERNELS_SSE4_2
        sets.append("SSE4_2")
        #endif
        #if KERNELS_POPCNT
        sets.append("POPCNT")
        #endif
        #if KERNELS_CX16
        sets.append("CX16")
        #endif
        #if KERNELS_AVX
        sets.append("AVX")
        #endif
        #if KERNELS_AVX2
        sets.append("AVX2")
        #endif
        #if KERNELS_FMA
        sets.append("FMA")
        #endif
        #if KERNELS_F16C
        sets.append("F16C")
        #endif
        #if KERNELS_BMI1
        sets.append("BMI1")
        #endif
        #if KERNELS_BMI2
        sets.append("BMI2")
        #endif
        #if KERNELS_LZCNT
        sets.append("LZCNT")
        #endif
        #if KERNELS_MOVBE
        sets.append("MOVBE")
        #endif
        #if KERNELS_AVX512F
        sets.append("AVX512F")
        #endif
        #if KERNELS_AVX512BW
        sets.append("AVX512BW")
        #endif
        #if KERNELS_AVX512CD
        sets.append("AVX512CD")
        #endif
        #if KERNELS_AVX512DQ
        sets.append("AVX512DQ")
        #endif
        #if KERNELS_AVX512VL
        sets.append("AVX512VL")
        #endif
        return sets
    }()

    /// The instruction sets this CPU has and its OS has enabled (the AVX and AVX-512 register
    /// states saved on a context switch), from CPUID and XGETBV, by the names above.
    public static let availableInstructionSets: Set<String> = {
        let bits = mnist_softmax_cpu_features()
        let named: [(String, UInt32)] = [
            ("SSE3", MNIST_SOFTMAX_CPU_SSE3), ("SSSE3", MNIST_SOFTMAX_CPU_SSSE3),
            ("SSE4_1", MNIST_SOFTMAX_CPU_SSE4_1), ("SSE4_2", MNIST_SOFTMAX_CPU_SSE4_2),
            ("POPCNT", MNIST_SOFTMAX_CPU_POPCNT), ("CX16", MNIST_SOFTMAX_CPU_CX16),
            ("AVX", MNIST_SOFTMAX_CPU_AVX), ("AVX2", MNIST_SOFTMAX_CPU_AVX2),
            ("FMA", MNIST_SOFTMAX_CPU_FMA), ("F16C", MNIST_SOFTMAX_CPU_F16C),
            ("BMI1", MNIST_SOFTMAX_CPU_BMI1), ("BMI2", MNIST_SOFTMAX_CPU_BMI2),
            ("LZCNT", MNIST_SOFTMAX_CPU_LZCNT), ("MOVBE", MNIST_SOFTMAX_CPU_MOVBE),
            ("AVX512F", MNIST_SOFTMAX_CPU_AVX512F), ("AVX512BW", MNIST_SOFTMAX_CPU_AVX512BW),
            ("AVX512CD", MNIST_SOFTMAX_CPU_AVX512CD), ("AVX512DQ", MNIST_SOFTMAX_CPU_AVX512DQ),
            ("AVX512VL", MNIST_SOFTMAX_CPU_AVX512VL),
        ]
        return Set(named.filter { bits & $0.1 != 0 }.map(\.0))
    }()

    /// The required instruction sets this CPU lacks; empty when the kernels can run.
    public static let missingInstructionSets = requiredInstructionSets.filter { !availableInstructionSets.contains($0) }

    /// Throws `UnsupportedCPUError` when this CPU lacks an instruction set the kernels need.
    public static func verify() throws(UnsupportedCPUError) {
        guard missingInstructionSets.isEmpty else { throw UnsupportedCPUError(missing: missingInstructionSets) }
    }

    /// Stops with `UnsupportedCPUError`'s message where a non-throwing entry point is called on
    /// a CPU that cannot run the kernels: better than an illegal instruction inside them.
    static func requireSupport() {
        do throws(UnsupportedCPUError) { try verify() } catch { fatalError(error.description) }
    }
}

/// This CPU lacks instruction sets that the kernels of this binary were compiled to use.
public struct UnsupportedCPUError: Error, CustomStringConvertible, Equatable {
    /// The missing instruction sets, as `KernelCPU` names them (AVX2, FMA, AVX512F, …).
    public let missing: [String]

    public var description: String {
        """
        this CPU lacks \(missing.joined(separator: ", ")), which this binary's kernels were compiled to use
        HINT: build on this machine (`swift build -c release`), or build a binary for any x86-64 CPU with `MNIST_SOFTMAX_TARGET_CPU= swift build -c release` (see the README's "Portable builds")
        """
    }
}
