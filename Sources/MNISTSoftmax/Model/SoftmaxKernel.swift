import CPrefetch
import RealModule

/// The fast kernels for the 784→10 model on UInt8 pixels, in Float with 16-lane SIMD vectors and
/// unsafe pointers. `ReferenceMath` is the naive version of the same math; the tests hold the two
/// together.
///
/// How it is fast:
/// - x = pixel / 255, so W x = (W · pixel) / 255. The kernels work on the raw pixel values and
///   apply 1/255 once per logit (forward) and once per class (backward), not once per pixel.
/// - Images are converted to Float a block at a time before any of them is used: reading a
///   64-byte vector right after the (narrower) stores that wrote it would stall on
///   store-to-load forwarding.
/// - The kernels work on a slice of columns (`ColumnShardedSoftmax` gives each thread one), so
///   that the thread's part of W and of the gradient (at most 31 KB each) stays in L1.
/// - The forward pass keeps 2 images × 10 classes of accumulators in registers, so each vector of
///   W loaded feeds two fused multiply-adds, and reduces the 20 accumulators with a shared tree
///   of shuffles; the backward pass loads and stores each gradient vector once for four images.
enum SoftmaxKernel {
    // Computed constants, not stored ones: a `static let` initialised from another global is
    // initialised lazily, and every use in a loop would check that it had been.
    @inline(__always) static var classes: Int { SoftmaxModel.classCount }
    @inline(__always) static var features: Int { SoftmaxModel.featureCount }
    /// 784 = 49 × 16, so a row of W or an image is a whole number of vectors.
    @inline(__always) static var vectorsPerRow: Int { 49 }
    @inline(__always) static var pixelScale: Float { 1 / 255 }
    /// Images converted to Float before the first of them is used, in `forEachLogits`.
    @inline(__always) static var chunkSize: Int { 64 }
    /// Floats between one sample's logits and the next: 10 logits and 6 padding lanes, so that
    /// the softmax works on one 16-lane vector.
    @inline(__always) static var logitStride: Int { 16 }

    /// Scratch space for `forEachLogits`: a chunk of converted images and their logits.
    final class Workspace {
        /// (chunkSize, 784) Float pixel values 0…255, 64-byte aligned.
        let images: UnsafeMutableRawPointer
        /// (chunkSize, logitStride): logits; padding lanes finite.
        let logits: UnsafeMutablePointer<Float>

        init() {
            images = UnsafeMutableRawPointer(allocateAlignedFloats(count: chunkSize * features))
            logits = allocateAlignedFloats(count: chunkSize * logitStride)
        }

        deinit {
            images.deallocate()
            logits.deallocate()
        }

        /// Image `slot` of the chunk.
        func image(_ slot: Int) -> UnsafeMutableRawPointer { images + slot * features * 4 }
    }

    /// Converts `count` u8 pixels to Float (unscaled: 0…255).
    /// pixels: (count) u8; image: (count) Float. The loop vectorises to zero-extend and convert.
    @inline(__always)
    static func convert(pixels: UnsafePointer<UInt8>, count: Int, into image: UnsafeMutableRawPointer) {
        let target = image.assumingMemoryBound(to: Float.self)
        for i in 0 ..< count { target[i] = Float(pixels[i]) }
    }

    /// Asks the memory system to bring the `count` bytes at `address` into the cache ahead of use
    /// (one `prefetcht0` per 64-byte line). It never faults and changes no value.
    @inline(__always)
    static func prefetch(_ address: UnsafeRawPointer, count: Int) {
        for offset in stride(from: 0, to: count, by: 64) { mnist_softmax_prefetch(address + offset) }
    }

    /// The sum of 16 lanes as a fixed tree of additions (8 + 8, 4 + 4, 2 + 2, 1 + 1).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// Raw dot products s_k = Σ_j W[k, j] · x[j] of two converted images with every row of W,
    /// over `vectorCount` vectors of 16 columns (a column slice of W, or all 49 vectors of a row).
    /// weights: (10, rowStride) row-major, the first vectorCount·16 columns used; first, second:
    /// (vectorCount·16) Float pixel values 0…255; sums0, sums1: (10), written (no 1/255, no bias).
    /// The 20 accumulators (2 samples × 10 classes) live in vector registers; each W vector loaded
    /// feeds two fused multiply-adds. Never inlined, so that its register allocation does not
    /// depend on the caller.
    @inline(never)
    static func dotProducts(weights: UnsafePointer<Float>, rowStride: Int, vectorCount: Int,
                            first x0: UnsafeRawPointer, second x1: UnsafeRawPointer,
                            into sums0: UnsafeMutablePointer<Float>, _ sums1: UnsafeMutablePointer<Float>)
    {
        let w = UnsafeRawPointer(weights)
        let row = rowStride * 4
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>(), a4 = SIMD16<Float>()
        var a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>(), a8 = SIMD16<Float>(), a9 = SIMD16<Float>()
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>(), b4 = SIMD16<Float>()
        var b5 = SIMD16<Float>(), b6 = SIMD16<Float>(), b7 = SIMD16<Float>(), b8 = SIMD16<Float>(), b9 = SIMD16<Float>()
        for v in 0 ..< vectorCount {
            let offset = 64 * v
            let p = x0.load(fromByteOffset: offset, as: SIMD16<Float>.self)
            let q = x1.load(fromByteOffset: offset, as: SIMD16<Float>.self)
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
        UnsafeMutableRawPointer(sums0).storeBytes(of: horizontalSums(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9), as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(sums1).storeBytes(of: horizontalSums(b0, b1, b2, b3, b4, b5, b6, b7, b8, b9), as: SIMD16<Float>.self)
    }

    /// The lane sums of ten vectors, as lanes 0…9 of one vector (lanes 10…15 are 0).
    /// Halving by pairs: each step adds the low and high halves of two vectors at once, so ten
    /// sums cost about 25 vector operations rather than ten separate reductions of 8 each. The
    /// order of additions is fixed, so the result is deterministic.
    @inline(__always)
    static func horizontalSums(_ v0: SIMD16<Float>, _ v1: SIMD16<Float>, _ v2: SIMD16<Float>, _ v3: SIMD16<Float>,
                               _ v4: SIMD16<Float>, _ v5: SIMD16<Float>, _ v6: SIMD16<Float>, _ v7: SIMD16<Float>,
                               _ v8: SIMD16<Float>, _ v9: SIMD16<Float>) -> SIMD16<Float>
    {
        // 16 → 8 lanes per vector, two vectors per result: [v_a (8) | v_b (8)].
        @inline(__always) func fold16(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: a.lowHalf, highHalf: b.lowHalf) + SIMD16(lowHalf: a.highHalf, highHalf: b.highHalf)
        }
        // [a (8) | b (8)] → [a (4) | b (4)], two such per result: [a | b | c | d] with 4 lanes each.
        @inline(__always) func fold8(_ ab: SIMD16<Float>, _ cd: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(lowHalf: SIMD8(lowHalf: ab.lowHalf.lowHalf, highHalf: ab.highHalf.lowHalf),
                   highHalf: SIMD8(lowHalf: cd.lowHalf.lowHalf, highHalf: cd.highHalf.lowHalf))
                + SIMD16(lowHalf: SIMD8(lowHalf: ab.lowHalf.highHalf, highHalf: ab.highHalf.highHalf),
                         highHalf: SIMD8(lowHalf: cd.lowHalf.highHalf, highHalf: cd.highHalf.highHalf))
        }
        let s01 = fold16(v0, v1), s23 = fold16(v2, v3), s45 = fold16(v4, v5), s67 = fold16(v6, v7), s89 = fold16(v8, v9)
        let q0123 = fold8(s01, s23), q4567 = fold8(s45, s67), q89 = fold8(s89, SIMD16())
        // Four lanes per vector left, four vectors per register: [0 (4) | 1 (4) | 2 (4) | 3 (4)].
        // Two lanes per vector: evens + odds gives [0,0',1,1',…] pairs summed; then once more.
        let pairs0 = q0123.evenHalf + q0123.oddHalf // (8): two partial sums for each of 0…3
        let pairs1 = q4567.evenHalf + q4567.oddHalf // (8): … of 4…7
        let pairs2 = q89.evenHalf + q89.oddHalf // (8): … of 8, 9, then zeros
        let sums0 = pairs0.evenHalf + pairs0.oddHalf, sums1 = pairs1.evenHalf + pairs1.oddHalf
        let sums2 = pairs2.evenHalf + pairs2.oddHalf
        return SIMD16(lowHalf: SIMD8(lowHalf: sums0, highHalf: sums1), highHalf: SIMD8(lowHalf: sums2, highHalf: SIMD4()))
    }

    /// Computes the logits of images 0..<count of `pixels`, two at a time, and hands each image's
    /// 10 logits to `visit(n, z)`, which may overwrite them.
    /// W: (10, 784); b: (10); pixels: (count, 784) u8. z = (W · pixels) / 255 + b.
    @inline(__always)
    static func forEachLogits(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>,
                              count: Int, workspace: Workspace, _ visit: (Int, UnsafeMutablePointer<Float>) -> Void)
    {
        let z = workspace.logits
        let b = UnsafeRawPointer(bias).loadUnaligned(as: SIMD16<Float>.self, count: classes)
        for chunk in stride(from: 0, to: count, by: chunkSize) {
            let chunkCount = min(chunkSize, count - chunk)
            for slot in 0 ..< chunkCount {
                convert(pixels: pixels + (chunk + slot) * features, count: features, into: workspace.image(slot))
            }
            for first in stride(from: 0, to: chunkCount, by: 2) {
                // An odd last image is paired with itself.
                let second = min(first + 1, chunkCount - 1)
                dotProducts(weights: weights, rowStride: features, vectorCount: vectorsPerRow, first: workspace.image(first),
                            second: workspace.image(second), into: z, z + logitStride)
                for slot in 0 ..< 2 {
                    let logits = UnsafeMutableRawPointer(z + slot * logitStride)
                    logits.storeBytes(of: logits.load(as: SIMD16<Float>.self) * pixelScale + b, as: SIMD16<Float>.self)
                }
                visit(chunk + first, z)
                if second != first { visit(chunk + second, z + logitStride) }
            }
        }
    }

    /// Turns 10 logits into probabilities in place; returns m = max z and log Σ e^{z_j − m}.
    /// z: 16 Floats, the 10 logits then 6 finite padding lanes (0 after this call).
    ///
    /// The maximum is subtracted before exponentiating: the ratio is unchanged, every exponent is
    /// ≤ 0, and logits of ±1000 stay finite. Then −log p_y = logSum − (z_y − m). All ten
    /// exponentials are one 16-lane `exponential`; the padding lanes are masked out of the sum.
    @inline(__always)
    static func softmaxInPlace(_ z: UnsafeMutablePointer<Float>) -> (maximum: Float, logSum: Float) {
        var maximum = z[0]
        for k in 1 ..< classes where z[k] > maximum { maximum = z[k] }
        let raw = UnsafeMutableRawPointer(z)
        let shifted = raw.load(as: SIMD16<Float>.self) - maximum
        let exponentials = exponential(shifted) * classLanes
        let sum = horizontalSum(exponentials)
        raw.storeBytes(of: exponentials * (1 / sum), as: SIMD16<Float>.self)
        return (maximum, Float.log(sum))
    }

    /// The cost step for one sample: replaces its logits z by δ = ∂L/∂z and returns the sample's
    /// cost L and whether argmax z = y. z: 16 Floats, the 10 logits then 6 padding lanes (0
    /// after this call).
    ///
    /// - softmax-ce: δ = p − onehot(y). The chain rule through the softmax Jacobian
    ///   p_i(δ_ij − p_j) with ∂L/∂p = −y/p collapses to this, so no Jacobian is formed;
    ///   `ReferenceMath.chainRuleGradient` keeps the long way.
    /// - sigmoid-bce: δ = σ(z) − onehot(y), L = Σ_k softplus(z_k) − z_y.
    /// - mse: g = p − y, L = ½‖g‖², δ_j = p_j (g_j − Σ_i p_i g_i), the Jacobian applied to g.
    @inline(__always)
    static func logitGradient(_ lossFunction: LossFunction, logits z: UnsafeMutablePointer<Float>, label: Int)
        -> (loss: Float, isCorrect: Bool)
    {
        let isCorrect = argmax(z) == label
        let raw = UnsafeMutableRawPointer(z)
        var onehot = SIMD16<Float>()
        onehot[label] = 1
        switch lossFunction {
        case .softmaxCrossEntropy:
            let labelLogit = z[label]
            let (maximum, logSum) = softmaxInPlace(z)
            z[label] -= 1
            return (logSum - (labelLogit - maximum), isCorrect)
        case .sigmoidBinaryCrossEntropy:
            let logits = raw.load(as: SIMD16<Float>.self)
            // e = e^{−|z|} ≤ 1 in every lane, so nothing overflows: σ(z) = 1/(1 + e) for z ≥ 0 and
            // e/(1 + e) below; softplus(z) = max(z, 0) + log(1 + e).
            let magnitude = logits.replacing(with: -logits, where: logits .< 0)
            let e = exponential(-magnitude)
            let numerator = SIMD16<Float>(repeating: 1).replacing(with: e, where: logits .< 0)
            let sigmoid = numerator / (e + 1)
            var loss = -z[label]
            for k in 0 ..< classes { loss += max(z[k], 0) + Float.log(onePlus: e[k]) }
            raw.storeBytes(of: (sigmoid - onehot) * classLanes, as: SIMD16<Float>.self)
            return (loss, isCorrect)
        case .softmaxQuadratic:
            _ = softmaxInPlace(z)
            let p = raw.load(as: SIMD16<Float>.self)
            let g = (p - onehot) * classLanes
            let delta = p * (g - horizontalSum(p * g))
            raw.storeBytes(of: delta, as: SIMD16<Float>.self)
            return (horizontalSum(g * g) / 2, isCorrect)
        }
    }

    /// 1 in the ten class lanes of a logit vector, 0 in the six padding lanes.
    @inline(__always)
    static var classLanes: SIMD16<Float> { SIMD16(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0) }

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
        let shifter = SIMD16<Float>(repeating: 12_582_912) // 1.5 · 2²³
        let shiftedQuotient = clamped * 1.442_695_04 + shifter // 1.5 · 2²³ + n
        let n = shiftedQuotient - shifter
        let r = clamped.addingProduct(n, SIMD16(repeating: -0.693_359_375)).addingProduct(n, SIMD16(repeating: 2.121_944_4e-4))
        // Horner: e^r ≈ 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r(1/720 + r/5040)))))).
        @inline(__always) func step(_ coefficient: Float, _ inner: SIMD16<Float>) -> SIMD16<Float> {
            SIMD16(repeating: coefficient).addingProduct(inner, r)
        }
        let polynomial = step(1, step(1, step(1 / 2, step(1 / 6, step(1 / 24, step(1 / 120, step(1 / 720, SIMD16(repeating: 1 / 5040))))))))
        let exponentBits = (unsafeBitCast(shiftedQuotient, to: SIMD16<UInt32>.self) &+ (127 &- 0x4B40_0000)) &<< 23
        let result = polynomial * unsafeBitCast(exponentBits, to: SIMD16<Float>.self)
        return result.replacing(with: 0, where: x .< lowest)
    }

    /// The first index of the largest of 10 logits.
    @inline(__always)
    static func argmax(_ z: UnsafePointer<Float>) -> Int {
        var best = 0
        for k in 1 ..< classes where z[k] > z[best] { best = k }
        return best
    }

    /// gradW[k, c0 + j] += Σ_{s<4} δ[s][k] · image_s[j] for every class k and every column j of
    /// a slice of `vectorCount` vectors.
    /// deltas: (4, logitStride), the first 10 of each used; images: (4, imageStride bytes), each
    /// (vectorCount·16) Float; gradW: (10, rowStride) row-major, the first vectorCount·16 columns
    /// accumulated into.
    /// Five classes at a time: their 4 × 5 δ broadcasts stay in registers, and each vector of the
    /// four images and of the five gradient rows is loaded once for twenty fused multiply-adds.
    /// Never inlined, like `dotProducts`.
    @inline(never)
    static func addOuterProducts(deltas: UnsafePointer<Float>, images: UnsafeRawPointer, imageStride: Int,
                                 vectorCount: Int, into gradientWeights: UnsafeMutablePointer<Float>, rowStride: Int)
    {
        let gradient = UnsafeMutableRawPointer(gradientWeights)
        let row = rowStride * 4
        for first in stride(from: 0, to: classes, by: 5) {
            @inline(__always) func delta(_ sample: Int, _ k: Int) -> SIMD16<Float> {
                SIMD16(repeating: deltas[sample * logitStride + first + k])
            }
            let d00 = delta(0, 0), d01 = delta(0, 1), d02 = delta(0, 2), d03 = delta(0, 3), d04 = delta(0, 4)
            let d10 = delta(1, 0), d11 = delta(1, 1), d12 = delta(1, 2), d13 = delta(1, 3), d14 = delta(1, 4)
            let d20 = delta(2, 0), d21 = delta(2, 1), d22 = delta(2, 2), d23 = delta(2, 3), d24 = delta(2, 4)
            let d30 = delta(3, 0), d31 = delta(3, 1), d32 = delta(3, 2), d33 = delta(3, 3), d34 = delta(3, 4)
            for v in 0 ..< vectorCount {
                let offset = 64 * v
                let x0 = images.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                let x1 = images.load(fromByteOffset: imageStride + offset, as: SIMD16<Float>.self)
                let x2 = images.load(fromByteOffset: 2 * imageStride + offset, as: SIMD16<Float>.self)
                let x3 = images.load(fromByteOffset: 3 * imageStride + offset, as: SIMD16<Float>.self)
                @inline(__always) func update(_ k: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>, _ d: SIMD16<Float>) {
                    let address = (first + k) * row + offset
                    var sum = gradient.loadUnaligned(fromByteOffset: address, as: SIMD16<Float>.self)
                    sum.addProduct(a, x0)
                    sum.addProduct(b, x1)
                    sum.addProduct(c, x2)
                    sum.addProduct(d, x3)
                    gradient.storeBytes(of: sum, toByteOffset: address, as: SIMD16<Float>.self)
                }
                update(0, d00, d10, d20, d30)
                update(1, d01, d11, d21, d31)
                update(2, d02, d12, d22, d32)
                update(3, d03, d13, d23, d33)
                update(4, d04, d14, d24, d34)
            }
        }
    }
}

extension SIMD16<Float> {
    /// self += a · b, as one fused multiply-add per lane.
    @inline(__always)
    mutating func addProduct(_ a: SIMD16<Float>, _ b: SIMD16<Float>) {
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
