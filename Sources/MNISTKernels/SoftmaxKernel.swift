import CPrefetch

/// The fast kernels for the 784→10 model on UInt8 pixels, in Float with 16-lane SIMD vectors and
/// unsafe pointers. `ReferenceMath` (in the MNISTSoftmax library) is the naive version of the same
/// math; the tests hold the two together. This module is compiled with the target CPU's vector
/// instructions and without Swift's runtime checks (see Package.swift): the library validates
/// every shape and checks the CPU (`KernelCPU`) before it calls in.
///
/// How it is fast:
/// - x = pixel / 255, so W x = (W · pixel) / 255. The kernels work on the raw pixel values and
///   apply 1/255 once per logit (forward) and once per class (backward), not once per pixel.
/// - They read the u8 pixels where they lie and widen each vector of 16 to Float in registers
///   (one zero-extension and one conversion, shared by ten multiply-adds): no Float copy of the
///   images is written, and an image occupies 784 bytes of cache rather than 3,136.
/// - They skip the vectors of 16 pixels that are all 0 (`nonzeroVectors`): 42% of an MNIST
///   image's vectors are background, and a vector of zeros adds exactly nothing to a logit or to
///   the gradient, so the results are those of the dense sums, bit for bit.
/// - The kernels work on a slice of columns (`ColumnShardedSoftmax`'s column shards), so that a
///   thread's part of W and of the gradient (at most 31 KB each) stays in L1.
/// - The forward pass keeps 2 images × 10 classes of accumulators in registers (with AVX2, in
///   four sweeps of 10 eight-lane halves, as 16 ymm registers hold no more), so each vector of
///   W loaded feeds two fused multiply-adds, and reduces the 20 accumulators with a shared tree
///   of shuffles; the backward pass loads and stores each gradient vector once for four images.
/// - The cost step (softmax, cost, δ) works on 16 samples at once, class-major: ten vectors of 16
///   samples rather than one vector of 10 classes (and 6 idle lanes) per sample.
package enum SoftmaxKernel {
    // Computed constants, not stored ones: a `static let` initialised from another global is
    // initialised lazily, and every use in a loop would check that it had been.
    /// K = 10 classes and D = 784 = 28 × 28 inputs: the library's `SoftmaxModel` shapes.
    @inline(__always) package static var classes: Int { 10 }
    @inline(__always) package static var features: Int { 784 }
    /// 784 = 49 × 16, so a row of W or an image is a whole number of vectors.
    @inline(__always) static var vectorsPerRow: Int { 49 }
    @inline(__always) static var pixelScale: Float { 1 / 255 }
    /// Floats between one class's row and the next in a block of logits or δ stored class-major,
    /// (10, blockStride): sample s of class k at k · blockStride + s. Room for 256 samples and
    /// the padding to a multiple of 16. A constant, so that the backward kernel addresses its 40
    /// δ values by fixed displacements.
    @inline(__always) package static var blockStride: Int { 272 }

    /// The output layer and cost whose gradient with respect to the logits the kernels form: the
    /// library's `LossFunction`, case for case.
    package enum Cost: Sendable {
        case softmaxCrossEntropy
        case sigmoidBinaryCrossEntropy
        case softmaxQuadratic
    }

    /// Which vectors of 16 pixels hold a pixel other than 0: bit v set when
    /// pixels[16v ..< 16v + 16] are not all 0.
    /// pixels: (count) u8, count a multiple of 16 and at most 64 · 16.
    ///
    /// The mask is what makes the kernels sparse: about 42% of an MNIST image's vectors of 16
    /// pixels are all background (0), and a vector of zeros adds exactly nothing, neither to a
    /// logit (W · 0) nor to the gradient (δ · 0), so the kernels skip it.
    @inline(__always)
    static func nonzeroVectors(pixels: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let source = UnsafeRawPointer(pixels)
        var nonzero: UInt64 = 0
        for vector in 0 ..< count / 16 {
            // Any byte not 0: the two halves or-ed as integers, then the top bit of a | −a is
            // set exactly when a ≠ 0 (arithmetic, as a branch here would be mispredicted often).
            let any =
                source.loadUnaligned(fromByteOffset: 16 * vector, as: UInt64.self)
                | source.loadUnaligned(fromByteOffset: 16 * vector + 8, as: UInt64.self)
            nonzero |= ((any | (0 &- any)) &>> 63) &<< UInt64(vector)
        }
        return nonzero
    }

    /// The 16 pixels at `offset` bytes from `pixels`, as Float values 0…255.
    /// Written lane by lane, this compiles to one zero-extending load (vpmovzxbd) and one
    /// conversion (vcvtdq2ps); the SIMD conversion initialisers are left as calls inside the
    /// large kernels.
    @inline(__always)
    static func pixelVector(_ pixels: UnsafeRawPointer, atByteOffset offset: Int) -> SIMD16<Float> {
        let b = pixels.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
        return SIMD16<Float>(
            Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), Float(b[4]), Float(b[5]), Float(b[6]),
            Float(b[7]), Float(b[8]), Float(b[9]), Float(b[10]), Float(b[11]), Float(b[12]), Float(b[13]),
            Float(b[14]), Float(b[15]))
    }

    /// The 8 pixels at `offset` bytes from `pixels`, as Float values 0…255 (one vpmovzxbd and
    /// one vcvtdq2ps on AVX2), for the kernels that work in 8-lane halves.
    @inline(__always)
    static func pixelHalfVector(_ pixels: UnsafeRawPointer, atByteOffset offset: Int) -> SIMD8<Float> {
        let b = pixels.loadUnaligned(fromByteOffset: offset, as: SIMD8<UInt8>.self)
        return SIMD8<Float>(
            Float(b[0]), Float(b[1]), Float(b[2]), Float(b[3]), Float(b[4]), Float(b[5]), Float(b[6]), Float(b[7]))
    }

    /// Calls `body(v)` for each bit v set in `vectors`, lowest first: the vectors of 16 pixels a
    /// kernel visits. One tzcnt and one blsr per vector; the loop ends on the last set bit.
    @inline(__always)
    static func forEachVector(in vectors: UInt64, _ body: (Int) -> Void) {
        var remaining = vectors
        while remaining != 0 {
            body(remaining.trailingZeroBitCount)
            remaining &= remaining &- 1
        }
    }

    /// Asks the memory system to bring the 64-byte line that holds `address` into the cache ahead
    /// of use (`prefetcht0`). It never faults and changes no value.
    @inline(__always)
    static func prefetch(_ address: UnsafeRawPointer) {
        mnist_softmax_prefetch(address)
    }

    /// The sum of 16 lanes as a fixed tree of additions (8 + 8, 4 + 4, 2 + 2, 1 + 1).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// Raw dot products s_k = Σ_j W[k, j] · x[j] of two images with every row of W, over the
    /// vectors of 16 columns whose bits are set in `vectors` (of a column slice of W, or of all 49
    /// vectors of a row): those where either image is not all 0, from `nonzeroVectors`.
    /// weights: (10, rowStride) row-major; first, second: u8 pixels, 16 per vector, widened to
    /// Float in registers; sums0, sums1: (10), written (no 1/255, no bias). A vector left out
    /// must be 0 in both images, so the sums are exactly those over every vector.
    /// The 20 accumulators (2 samples × 10 classes) live in vector registers (below: how, per
    /// instruction set); each W vector loaded feeds two fused multiply-adds. Never inlined, so that
    /// its register allocation does not depend on the caller.
    ///
    /// It also prefetches the `byteCount` bytes at `ahead0` and at `ahead1` (images the caller
    /// will need later), one 64-byte line of each per vector multiplied and the rest after the
    /// loop. Spread out like this, a few misses are in flight at a time; issued as a burst of
    /// 13 lines per image, the prefetches stalled the forward pass waiting for free fill buffers.
    /// (Measured: 8% less time per single-thread epoch, paired runs on the two cores at once.)
    @inline(never)
    static func dotProducts(
        weights: UnsafePointer<Float>, rowStride: Int, vectors: UInt64,
        first x0: UnsafePointer<UInt8>, second x1: UnsafePointer<UInt8>,
        into sums0: UnsafeMutablePointer<Float>, _ sums1: UnsafeMutablePointer<Float>,
        prefetching ahead0: UnsafeRawPointer, _ ahead1: UnsafeRawPointer, byteCount: Int
    ) {
        // Offsets into the two prefetched ranges: 0, 64, … up to the one past their last line,
        // clamped to their last byte, so that every line is asked for and none beyond.
        let lastByte = byteCount - 1, prefetchEnd = (byteCount + 63) / 64 * 64
        var prefetchOffset = 0
        @inline(__always) func prefetchNextLines() {
            let offset = min(prefetchOffset, lastByte)
            prefetch(ahead0 + offset)
            prefetch(ahead1 + offset)
            prefetchOffset += 64
        }
        let w = UnsafeRawPointer(weights)
        let row = rowStride * 4
        #if KERNELS_AVX512F
        // 32 zmm registers: 2 images × 10 classes of 16-lane accumulators fit, and each W vector
        // loaded feeds two fused multiply-adds.
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>(), a4 = SIMD16<Float>()
        var a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>(), a8 = SIMD16<Float>(), a9 = SIMD16<Float>()
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>(), b4 = SIMD16<Float>()
        var b5 = SIMD16<Float>(), b6 = SIMD16<Float>(), b7 = SIMD16<Float>(), b8 = SIMD16<Float>(), b9 = SIMD16<Float>()
        forEachVector(in: vectors) { vector in
            let offset = 64 * vector
            prefetchNextLines()
            let p = pixelVector(x0, atByteOffset: 16 * vector), q = pixelVector(x1, atByteOffset: 16 * vector)
            @inline(__always) func weight(_ k: Int) -> SIMD16<Float> {
                w.loadUnaligned(fromByteOffset: k * row + offset, as: SIMD16<Float>.self)
            }
            var r = weight(0); a0.addProduct(r, p); b0.addProduct(r, q)
            r = weight(1); a1.addProduct(r, p); b1.addProduct(r, q)
            r = weight(2); a2.addProduct(r, p); b2.addProduct(r, q)
            r = weight(3); a3.addProduct(r, p); b3.addProduct(r, q)
            r = weight(4); a4.addProduct(r, p); b4.addProduct(r, q)
            r = weight(5); a5.addProduct(r, p); b5.addProduct(r, q)
            r = weight(6); a6.addProduct(r, p); b6.addProduct(r, q)
            r = weight(7); a7.addProduct(r, p); b7.addProduct(r, q)
            r = weight(8); a8.addProduct(r, p); b8.addProduct(r, q)
            r = weight(9); a9.addProduct(r, p); b9.addProduct(r, q)
        }
        #else
        // 16 ymm registers (AVX2; the baseline's 16 xmm alike): 20 accumulators of 16 lanes
        // would take 40 and spill to the stack on every multiply-add. Instead four sweeps over
        // the vectors, each with 2 images × 5 classes of 8-lane accumulators (10 registers, plus
        // the two images' pixels and a W vector): lanes 0–7 then 8–15, classes 0–4 then 5–9.
        // Lane i of an accumulator sums the same products in the same order as lane i of the
        // 16-lane one, and the halves are joined before the same reduction tree, so the sums are
        // bit for bit those of the AVX-512 path.
        typealias Five = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
        // One sweep: lanes 8·half ..< 8·half + 8 of classes 5·group ..< 5·group + 5, both images.
        @inline(__always) func sweep(half: Int, group: Int) -> (first: Five, second: Five) {
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>(), a4 = SIMD8<Float>()
            var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>(), b4 = SIMD8<Float>()
            let base = w + group * 5 * row + half * 32
            forEachVector(in: vectors) { vector in
                let offset = 64 * vector
                if half == 0 && group == 0 { prefetchNextLines() }
                let p = pixelHalfVector(x0, atByteOffset: 16 * vector + 8 * half)
                let q = pixelHalfVector(x1, atByteOffset: 16 * vector + 8 * half)
                @inline(__always) func weight(_ k: Int) -> SIMD8<Float> {
                    base.loadUnaligned(fromByteOffset: k * row + offset, as: SIMD8<Float>.self)
                }
                var r = weight(0); a0.addProduct(r, p); b0.addProduct(r, q)
                r = weight(1); a1.addProduct(r, p); b1.addProduct(r, q)
                r = weight(2); a2.addProduct(r, p); b2.addProduct(r, q)
                r = weight(3); a3.addProduct(r, p); b3.addProduct(r, q)
                r = weight(4); a4.addProduct(r, p); b4.addProduct(r, q)
            }
            return ((a0, a1, a2, a3, a4), (b0, b1, b2, b3, b4))
        }
        let low0 = sweep(half: 0, group: 0), low1 = sweep(half: 0, group: 1)
        let high0 = sweep(half: 1, group: 0), high1 = sweep(half: 1, group: 1)
        let a0 = SIMD16(lowHalf: low0.first.0, highHalf: high0.first.0),
            a1 = SIMD16(lowHalf: low0.first.1, highHalf: high0.first.1)
        let a2 = SIMD16(lowHalf: low0.first.2, highHalf: high0.first.2),
            a3 = SIMD16(lowHalf: low0.first.3, highHalf: high0.first.3)
        let a4 = SIMD16(lowHalf: low0.first.4, highHalf: high0.first.4),
            a5 = SIMD16(lowHalf: low1.first.0, highHalf: high1.first.0)
        let a6 = SIMD16(lowHalf: low1.first.1, highHalf: high1.first.1),
            a7 = SIMD16(lowHalf: low1.first.2, highHalf: high1.first.2)
        let a8 = SIMD16(lowHalf: low1.first.3, highHalf: high1.first.3),
            a9 = SIMD16(lowHalf: low1.first.4, highHalf: high1.first.4)
        let b0 = SIMD16(lowHalf: low0.second.0, highHalf: high0.second.0),
            b1 = SIMD16(lowHalf: low0.second.1, highHalf: high0.second.1)
        let b2 = SIMD16(lowHalf: low0.second.2, highHalf: high0.second.2),
            b3 = SIMD16(lowHalf: low0.second.3, highHalf: high0.second.3)
        let b4 = SIMD16(lowHalf: low0.second.4, highHalf: high0.second.4),
            b5 = SIMD16(lowHalf: low1.second.0, highHalf: high1.second.0)
        let b6 = SIMD16(lowHalf: low1.second.1, highHalf: high1.second.1),
            b7 = SIMD16(lowHalf: low1.second.2, highHalf: high1.second.2)
        let b8 = SIMD16(lowHalf: low1.second.3, highHalf: high1.second.3),
            b9 = SIMD16(lowHalf: low1.second.4, highHalf: high1.second.4)
        #endif
        while prefetchOffset <= prefetchEnd { prefetchNextLines() }
        UnsafeMutableRawPointer(sums0).storeBytes(
            of: horizontalSums(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9), as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(sums1).storeBytes(
            of: horizontalSums(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9), as: SIMD16<Float>.self)
    }

    /// The lane sums of ten vectors, as lanes 0…9 of one vector (lanes 10…15 are 0).
    /// A tree that halves every vector at each level and packs two halved vectors into one
    /// register, so that one addition serves two vectors: 16 → 8 lanes (halves of 256 bits),
    /// then three times 2 → 1 adjacent lanes (`adjacentPairSums`). Ten sums compile to about 60
    /// instructions (the even/odd-lane tree before it took about 200). The order of additions
    /// is fixed, so the result is deterministic.
    @inline(__always)
    static func horizontalSums(
        _ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ v2: SIMD16<Float>, _ v3: SIMD16<Float>,
        _ v4: SIMD16<Float>, _ v5: SIMD16<Float>, _ v6: SIMD16<Float>, _ v7: SIMD16<Float>,
        _ v8: SIMD16<Float>, _ v9: SIMD16<Float>
    ) -> SIMD16<Float> {
        // [a (16)], [b (16)] → [a (8) | b (8)]: the halves of each added.
        @inline(__always) func fold(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: a.lowHalf, highHalf: b.lowHalf) + SIMD16(lowHalf: a.highHalf, highHalf: b.highHalf)
        }
        // Two vectors whose adjacent lanes are summed, side by side: 16 + 16 → 8 + 8 lanes.
        @inline(__always) func pairs(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: adjacentPairSums(a), highHalf: adjacentPairSums(b))
        }
        let zero = SIMD16<Float>()
        // [0 (8) | 1 (8)], [2 | 3], …: eight partial sums per vector.
        let s01 = fold(v0, v1), s23 = fold(v2, v3), s45 = fold(v4, v5), s67 = fold(v6, v7), s89 = fold(v8, v9)
        // [0 (4) | 1 (4) | 2 (4) | 3 (4)], [4 … 7], [8 (4) | 9 (4) | 0 …].
        let q0123 = pairs(s01, s23), q4567 = pairs(s45, s67), q89 = pairs(s89, zero)
        // [0 (2) | 1 (2) | … | 7 (2)], [8 (2) | 9 (2) | 0 …].
        let d0to7 = pairs(q0123, q4567), d89 = pairs(q89, zero)
        // [0 | 1 | … | 9 | 0 …].
        return pairs(d0to7, d89)
    }

    /// [v0 + v1, v2 + v3, …, v14 + v15]. Viewed as eight 64-bit lanes, the even Floats are the
    /// low halves and the odd ones the high halves: two truncations (vpmovqd) and a shift, where
    /// picking even and odd lanes one by one compiles to a long run of single-lane inserts.
    @inline(__always)
    static func adjacentPairSums(_ v: SIMD16<Float>) -> SIMD8<Float> {
        let wide = unsafeBitCast(v, to: SIMD8<UInt64>.self)
        let even = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: wide), to: SIMD8<Float>.self)
        let odd = unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: wide &>> 32), to: SIMD8<Float>.self)
        return even + odd
    }

    /// Computes the logits of images 0..<count of `pixels`, 16 at a time, and hands each group to
    /// `visit(first, count, z)`, which may overwrite z.
    /// W: (10, 784); b: (10); pixels: (count, 784) u8. z: (10, blockStride) class-major, lane i of
    /// row k holding z_k = (W · pixels) / 255 + b of image first + i, for i < count (≤ 16); the
    /// lanes past count are 0.
    @inline(__always)
    static func forEachLogitGroup(
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>,
        count: Int, _ visit: (Int, Int, UnsafeMutablePointer<Float>) -> Void
    ) {
        let b = UnsafeRawPointer(bias).loadUnaligned(as: SIMD16<Float>.self, count: classes)
        let floats = 16 * 16 + classes * blockStride
        withUnsafeTemporaryAllocation(byteCount: floats * 4, alignment: 64) { buffer in
            let rows = buffer.baseAddress!.bindMemory(to: Float.self, capacity: floats), z = rows + 16 * 16
            for first in stride(from: 0, to: count, by: 16) {
                let groupCount = min(16, count - first)
                for lane in stride(from: 0, to: groupCount, by: 2) {
                    // An odd last image is paired with itself. The pair after it is prefetched.
                    @inline(__always) func image(_ n: Int) -> UnsafePointer<UInt8> {
                        pixels + min(n, count - 1) * features
                    }
                    let x0 = image(first + lane), x1 = image(first + lane + 1)
                    let vectors =
                        nonzeroVectors(pixels: x0, count: features) | nonzeroVectors(pixels: x1, count: features)
                    dotProducts(
                        weights: weights, rowStride: features, vectors: vectors, first: x0, second: x1,
                        into: rows + lane * 16, rows + (lane + 1) * 16,
                        prefetching: image(first + lane + 2), image(first + lane + 3), byteCount: features)
                }
                for lane in 0 ..< 16 {
                    let row = UnsafeMutableRawPointer(rows + lane * 16)
                    row.storeBytes(
                        of: lane < groupCount ? row.load(as: SIMD16<Float>.self) * pixelScale + b : SIMD16(),
                        as: SIMD16<Float>.self)
                }
                transpose(logitRows: rows, into: z)
                visit(first, groupCount, z)
            }
        }
    }

    /// The logits of 16 samples from one row per sample to one row per class.
    /// rows: (16, 16), sample i's 10 logits in row i; z: (10, blockStride), columns 0…15 written.
    /// Built lane by lane from the rows, which compiles to loads and inserts: about 12 per sample,
    /// against the 16 · 16 lanes of work the class-major cost step then saves.
    @inline(__always)
    static func transpose(logitRows rows: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>) {
        for k in 0 ..< classes {
            UnsafeMutableRawPointer(z + k * blockStride).storeBytes(
                of: SIMD16(
                    rows[k], rows[16 + k], rows[32 + k], rows[48 + k], rows[64 + k], rows[80 + k], rows[96 + k],
                    rows[112 + k], rows[128 + k], rows[144 + k], rows[160 + k], rows[176 + k], rows[192 + k],
                    rows[208 + k], rows[224 + k], rows[240 + k]),
                as: SIMD16<Float>.self)
        }
    }

    /// The cost step for 16 samples side by side, one per lane: replaces their logits by
    /// δ = ∂L/∂z and returns each sample's cost L and its predicted class, argmax z (the first
    /// class that reaches the maximum).
    /// z: (10, blockStride) class-major, z[k · blockStride + i] for lane i; labels: (16), the
    /// class as a Float, or −1 in a lane that holds no sample (its logits must be finite; it gets
    /// δ = 0 and L = 0). Labels are Floats because the vector comparisons of Float compile to one
    /// instruction, and those of Int32 to a loop over lanes.
    ///
    /// Ten vectors of 16 samples rather than one vector of 10 classes per sample: no lane is idle,
    /// the maximum and the sums are lane-wise, and one division and one logarithm serve 16
    /// samples. (Measured: 10% less time per epoch than the per-sample form it replaced, on 1
    /// and 2 threads.)
    /// - softmax-ce: δ = p − onehot(y). The chain rule through the softmax Jacobian
    ///   p_i(δ_ij − p_j) with ∂L/∂p = −y/p collapses to this, so no Jacobian is formed;
    ///   `ReferenceMath.chainRuleGradient` keeps the long way. L = log Σ_j e^{z_j − m} − (z_y − m),
    ///   with the log taken as log(1 + Σ_{j≠argmax} e^{z_j − m}), which stays accurate when the
    ///   sample is confidently right and L is tiny.
    /// - sigmoid-bce: δ = σ(z) − onehot(y), L = Σ_k softplus(z_k) − z_y = Σ_{k≠y} softplus(z_k)
    ///   + softplus(−z_y).
    /// - mse: g = p − y, L = ½‖g‖², δ_j = p_j (g_j − Σ_i p_i g_i), the Jacobian applied to g.
    @inline(__always)
    static func logitGradients(_ lossFunction: Cost, logits z: UnsafeMutablePointer<Float>, labels: SIMD16<Float>)
        -> (losses: SIMD16<Float>, predicted: SIMD16<Float>)
    {
        @inline(__always) func row(_ k: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(z + k * blockStride) }
        @inline(__always) func logits(_ k: Int) -> SIMD16<Float> { row(k).load(as: SIMD16<Float>.self) }
        @inline(__always) func isLabel(_ k: Int) -> SIMDMask<SIMD16<Int32>> { labels .== Float(k) }
        let empty = labels .< 0
        let maximum = maxima(z), predicted = predictions(z, maximum: maximum)
        var losses: SIMD16<Float>
        switch lossFunction {
        case .softmaxCrossEntropy:
            var labelLogit = SIMD16<Float>()
            for k in 0 ..< classes { labelLogit.replace(with: logits(k), where: isLabel(k)) }
            let others = softmax(z, maximum: maximum, predicted: predicted)
            losses = logarithm(onePlus: others) - (labelLogit - maximum)
            for k in 0 ..< classes {
                let p = logits(k)
                row(k).storeBytes(
                    of: p.replacing(with: p - 1, where: isLabel(k)).replacing(with: 0, where: empty),
                    as: SIMD16<Float>.self)
            }
        case .sigmoidBinaryCrossEntropy:
            losses = SIMD16()
            for k in 0 ..< classes {
                let zk = logits(k)
                // e = e^{−|z|} ≤ 1, so nothing overflows: σ(z) = 1/(1 + e) for z ≥ 0 and e/(1 + e)
                // below; softplus(z) = max(z, 0) + log(1 + e). The label's term, softplus(z_y) − z_y,
                // is taken as softplus(−z_y), with the same e, so that it does not cancel.
                let negative = zk .< 0
                let e = exponential(-zk.replacing(with: -zk, where: negative))
                let sigmoid = SIMD16<Float>(repeating: 1).replacing(with: e, where: negative) / (e + 1)
                let softplusArgument = zk.replacing(with: -zk, where: isLabel(k))
                losses += softplusArgument.replacing(with: 0, where: softplusArgument .< 0) + logarithm(onePlus: e)
                row(k).storeBytes(
                    of: sigmoid.replacing(with: sigmoid - 1, where: isLabel(k)).replacing(with: 0, where: empty),
                    as: SIMD16<Float>.self)
            }
        case .softmaxQuadratic:
            _ = softmax(z, maximum: maximum, predicted: predicted)
            var squaredError = SIMD16<Float>(), projection = SIMD16<Float>()
            for k in 0 ..< classes {
                let p = logits(k), g = p.replacing(with: p - 1, where: isLabel(k))
                squaredError.addProduct(g, g)
                projection.addProduct(p, g)
            }
            losses = squaredError / 2
            for k in 0 ..< classes {
                let p = logits(k), g = p.replacing(with: p - 1, where: isLabel(k))
                row(k).storeBytes(of: (p * (g - projection)).replacing(with: 0, where: empty), as: SIMD16<Float>.self)
            }
        }
        return (losses.replacing(with: 0, where: empty), predicted)
    }

    /// max_k z_k of 16 samples, lane-wise. z: (10, blockStride) class-major, 16 lanes used.
    @inline(__always)
    static func maxima(_ z: UnsafePointer<Float>) -> SIMD16<Float> {
        var maximum = UnsafeRawPointer(z).load(as: SIMD16<Float>.self)
        for k in 1 ..< classes {
            let zk = UnsafeRawPointer(z + k * blockStride).load(as: SIMD16<Float>.self)
            maximum.replace(with: zk, where: zk .> maximum)
        }
        return maximum
    }

    /// argmax_k z_k of 16 samples, lane-wise, as Floats: the first class that reaches `maximum`
    /// (from `maxima`). z: (10, blockStride) class-major, 16 lanes used.
    @inline(__always)
    static func predictions(_ z: UnsafePointer<Float>, maximum: SIMD16<Float>) -> SIMD16<Float> {
        var predicted = SIMD16<Float>(repeating: Float(classes - 1))
        for k in (0 ..< classes - 1).reversed() {
            predicted.replace(
                with: Float(k), where: UnsafeRawPointer(z + k * blockStride).load(as: SIMD16<Float>.self) .== maximum)
        }
        return predicted
    }

    /// The softmax of 16 samples, class-major, in place: z_k ← e^{z_k − m} / Σ_j e^{z_j − m},
    /// where m = max z (`maxima`) and `predicted` is the first class that reaches it. Subtracting
    /// m keeps every exponent ≤ 0, so nothing overflows, and the predicted class's term is
    /// exactly 1. Returns the sum of the other terms, Σ_{j≠predicted} e^{z_j − m}, in [0, 9].
    /// z: (10, blockStride) class-major, 16 lanes used.
    @inline(__always)
    static func softmax(_ z: UnsafeMutablePointer<Float>, maximum: SIMD16<Float>, predicted: SIMD16<Float>) -> SIMD16<
        Float
    > {
        @inline(__always) func row(_ k: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(z + k * blockStride) }
        var others = SIMD16<Float>()
        for k in 0 ..< classes {
            let e = exponential(row(k).load(as: SIMD16<Float>.self) - maximum)
            row(k).storeBytes(of: e, as: SIMD16<Float>.self)
            others += e.replacing(with: 0, where: predicted .== Float(k))
        }
        let inverse = 1 / (others + 1)
        for k in 0 ..< classes {
            row(k).storeBytes(of: row(k).load(as: SIMD16<Float>.self) * inverse, as: SIMD16<Float>.self)
        }
        return others
    }

    /// log x in each lane, for x ≥ 1 (NaN and +∞ are passed through).
    ///
    /// x = 2^n · f with f in [√½, √2), found from the bits; then log x = n · ln 2 + log f, and
    /// log f = 2 atanh(t) = 2(t + t³/3 + t⁵/5 + t⁷/7 + t⁹/9) with t = (f − 1)/(f + 1), |t| ≤ 0.172,
    /// whose next term is below 1e−9 relative. n becomes a Float by the same 1.5 · 2²³ shift as in
    /// `exponential`.
    @inline(__always)
    static func logarithm(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        let offset = SIMD16<Int32>(repeating: 0x3F35_04F3)  // the bits of √½
        let shifted = bits &- offset
        let n = unsafeBitCast((shifted &>> 23) &+ 0x4B40_0000, to: SIMD16<Float>.self) - 12_582_912
        let f = unsafeBitCast((shifted & 0x007F_FFFF) &+ offset, to: SIMD16<Float>.self)
        let t = (f - 1) / (f + 1), t2 = t * t
        let series = SIMD16<Float>(repeating: 1 / 7).addingProduct(t2, SIMD16(repeating: 1 / 9))
        let odd = SIMD16<Float>(repeating: 1).addingProduct(
            t2,
            SIMD16(repeating: 1 / 3).addingProduct(
                t2,
                SIMD16(repeating: 1 / 5).addingProduct(t2, series)))
        let logF = 2 * t * odd
        // n · ln 2 with ln 2 split in two, as in `exponential`; n · 0.693359375 is exact.
        let result = logF.addingProduct(n, SIMD16(repeating: -2.121_944_4e-4)).addingProduct(
            n, SIMD16(repeating: 0.693_359_375))
        return result.replacing(with: x, where: .!(x .< .infinity))
    }

    /// log(1 + e) in each lane, for e ≥ 0 (NaN passed through): accurate for tiny e too, where
    /// 1 + e rounds. With u = 1 + e rounded, log(1 + e) = log u · e / (u − 1) (the rounding
    /// error of u cancels to first order), and e itself where u = 1.
    @inline(__always)
    static func logarithm(onePlus e: SIMD16<Float>) -> SIMD16<Float> {
        let u = e + 1
        return (logarithm(u) * (e / (u - 1))).replacing(with: e, where: u .== 1)
    }

    /// Lanes below Float's smallest normal magnitude (about 1.2e−38) set to 0: they change no
    /// sum, and a subnormal operand costs a microcode assist in every multiply-add that uses it.
    @inline(__always)
    static func flushedToZeroBelowNormal(_ v: SIMD16<Float>) -> SIMD16<Float> {
        let magnitude = unsafeBitCast(unsafeBitCast(v, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
        return v.replacing(with: 0, where: magnitude .< Float.leastNormalMagnitude)
    }

    /// e^x in each lane, for x ≤ 0 (the softmax's shifted logits), to within a few ulp.
    ///
    /// x = n·ln 2 + r with n = round(x / ln 2) and |r| ≤ ln 2 / 2, so e^x = 2^n · e^r: e^r by its
    /// degree-7 Taylor polynomial (truncation error below 1e−8 relative on that interval), 2^n by
    /// writing n + 127 into the exponent bits. Adding 1.5·2²³ rounds x / ln 2 to an integer held
    /// in the low mantissa bits, with no float-to-int conversion; ln 2 is split in two (Cody and
    /// Waite) so that n·ln2High is exact. Lanes below −87 (where e^x falls below Float's smallest
    /// normal, about 1.2e−38) give 0, as the kernels flush such values anyway.
    @inline(__always)
    static func exponential(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let lowest = SIMD16<Float>(repeating: -87)
        let clamped = x.replacing(with: lowest, where: x .< lowest)
        let shifter = SIMD16<Float>(repeating: 12_582_912)  // 1.5 · 2²³
        let shiftedQuotient = clamped * 1.442_695_04 + shifter  // 1.5 · 2²³ + n
        let n = shiftedQuotient - shifter
        let r = clamped.addingProduct(n, SIMD16(repeating: -0.693_359_375)).addingProduct(
            n, SIMD16(repeating: 2.121_944_4e-4))
        // Horner: e^r ≈ 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040)))))).
        @inline(__always) func step(_ coefficient: Float, _ inner: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(repeating: coefficient).addingProduct(inner, r)
        }
        let polynomial = step(
            1,
            step(1, step(1 / 2, step(1 / 6, step(1 / 24, step(1 / 120, step(1 / 720, SIMD16(repeating: 1 / 5040))))))))
        let exponentBits = (unsafeBitCast(shiftedQuotient, to: SIMD16<UInt32>.self) &+ (127 &- 0x4B40_0000)) &<< 23
        let result = polynomial * unsafeBitCast(exponentBits, to: SIMD16<Float>.self)
        return result.replacing(with: 0, where: x .< lowest)
    }

    /// gradW[k, c0 + j] += Σ_{s<4} δ[k][s] · image_s[j] for every class k and every column j of
    /// the vectors of 16 whose bits are set in `vectors` (those where any of the four images is
    /// not all 0; a vector left out would add exactly 0).
    /// deltas: (10, blockStride) class-major, the four images' δ in columns 0…3; images: four u8
    /// pixel rows, 16 per vector, widened to Float in registers; gradW: (10, rowStride) row-major,
    /// accumulated into.
    /// All ten classes per vector, so that each image vector is widened once: the four image
    /// vectors stay in registers, each gradient vector is loaded and stored once for four
    /// multiply-adds, and the 40 δ values are broadcast from memory as operands of the
    /// multiply-adds (they would not fit in registers). Never inlined, like `dotProducts`.
    @inline(never)
    static func addOuterProducts(
        deltas: UnsafePointer<Float>,
        images x0: UnsafePointer<UInt8>, _ x1: UnsafePointer<UInt8>, _ x2: UnsafePointer<UInt8>,
        _ x3: UnsafePointer<UInt8>, vectors: UInt64,
        into gradientWeights: UnsafeMutablePointer<Float>, rowStride: Int
    ) {
        let gradient = UnsafeMutableRawPointer(gradientWeights)
        let row = rowStride * 4
        forEachVector(in: vectors) { vector in
            let offset = 64 * vector
            let y0 = pixelVector(x0, atByteOffset: 16 * vector), y1 = pixelVector(x1, atByteOffset: 16 * vector)
            let y2 = pixelVector(x2, atByteOffset: 16 * vector), y3 = pixelVector(x3, atByteOffset: 16 * vector)
            for k in 0 ..< classes {
                let address = k * row + offset
                var sum = gradient.loadUnaligned(fromByteOffset: address, as: SIMD16<Float>.self)
                let delta = deltas + k * blockStride
                sum.addProduct(SIMD16(repeating: delta[0]), y0)
                sum.addProduct(SIMD16(repeating: delta[1]), y1)
                sum.addProduct(SIMD16(repeating: delta[2]), y2)
                sum.addProduct(SIMD16(repeating: delta[3]), y3)
                gradient.storeBytes(of: sum, toByteOffset: address, as: SIMD16<Float>.self)
            }
        }
    }
}

// The library's ways in: whole operations, never inlined into their callers, so that all their
// code is compiled here, for the kernels' CPU, and runs only after the library's CPU check.
extension SoftmaxKernel {
    /// The summed cost and the confusion counts of a model on `count` labelled images.
    /// W: (10, 784) row-major; b: (10); pixels: (count, 784) u8; labels: (count), each in 0..<10.
    /// Returns Σ_n L_n of `cost` (no L2 term) and counts: (10, 10) row-major, [true][predicted].
    @inline(never)
    package static func evaluate(
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>,
        labels: UnsafePointer<UInt8>, count: Int, cost: Cost
    ) -> (lossSum: Double, confusion: [Int]) {
        var confusion = [Int](repeating: 0, count: classes * classes)
        var lossSum = 0.0
        // z = W x/255 + b: (10, 16) class-major per group of 16 images, then their costs and
        // predictions.
        forEachLogitGroup(weights: weights, bias: bias, pixels: pixels, count: count) { first, count, z in
            var labelLanes = SIMD16<Float>(repeating: -1)
            for lane in 0 ..< count { labelLanes[lane] = Float(labels[first + lane]) }
            let (losses, predicted) = logitGradients(cost, logits: z, labels: labelLanes)
            lossSum += Double(horizontalSum(losses))
            for lane in 0 ..< count {
                confusion[Int(labels[first + lane]) * classes + Int(predicted[lane])] += 1
            }
        }
        return (lossSum, confusion)
    }

    /// p = softmax(W x/255 + b) of one image.
    /// W: (10, 784) row-major; b: (10); pixels: (784) u8. Returns (10).
    @inline(never)
    package static func probabilities(
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>
    )
        -> [Float]
    {
        var probabilities = [Float](repeating: 0, count: classes)
        // z: (10, 16) class-major, the image in lane 0.
        forEachLogitGroup(weights: weights, bias: bias, pixels: pixels, count: 1) { _, _, z in
            let maximum = maxima(z)
            _ = softmax(z, maximum: maximum, predicted: predictions(z, maximum: maximum))
            for k in 0 ..< classes { probabilities[k] = z[k * blockStride] }
        }
        return probabilities
    }
}

extension SIMD16<Float> {
    /// self += a · b, as one fused multiply-add per lane.
    @inline(__always)
    mutating func addProduct(_ a: SIMD16<Float>, _ b: SIMD16<Float>) {
        self = addingProduct(a, b)
    }
}

extension SIMD8<Float> {
    /// self += a · b, as one fused multiply-add per lane.
    @inline(__always)
    mutating func addProduct(_ a: SIMD8<Float>, _ b: SIMD8<Float>) {
        self = addingProduct(a, b)
    }
}

extension UnsafeRawPointer {
    /// The first `count` ≤ 16 Floats here in the low lanes of a vector; the other lanes are 0.
    @inline(__always)
    func loadUnaligned(as _: SIMD16<Float>.Type, count: Int) -> SIMD16<Float> {
        var vector = SIMD16<Float>()
        for i in 0 ..< count { vector[i] = load(fromByteOffset: 4 * i, as: Float.self) }
        return vector
    }
}
