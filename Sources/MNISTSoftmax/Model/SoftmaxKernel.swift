import RealModule

/// The fast kernels for the 784→10 model on UInt8 pixels, in Float with 16-lane SIMD vectors and
/// unsafe pointers. `ReferenceMath` is the naive version of the same math; the tests hold the two
/// together.
///
/// How it is fast:
/// - x = pixel / 255, so W x = (W · pixel) / 255. The kernels work on the raw pixel values and
///   apply 1/255 once per logit (forward) and once per class (backward), not once per pixel.
/// - A chunk of 64 images is converted to Float (200 KB, in L2) before any of them is used:
///   reading a 64-byte vector right after the (vectorised, 32-byte) stores that wrote it would
///   stall on store-to-load forwarding.
/// - The forward pass runs over the whole chunk, then the backward pass, so that W (31 KB) and
///   then the gradient (31 KB) stay in the 48 KB L1 instead of evicting each other.
/// - The forward pass keeps 2 images × 10 classes of accumulators in registers, so each vector of
///   W loaded feeds two fused multiply-adds; the backward pass loads and stores each gradient
///   vector once for four images.
enum SoftmaxKernel {
    // Computed constants, not stored ones: a `static let` initialised from another global is
    // initialised lazily, and every use in a loop would check that it had been.
    @inline(__always) static var classes: Int { SoftmaxModel.classCount }
    @inline(__always) static var features: Int { SoftmaxModel.featureCount }
    /// 784 = 49 × 16, so a row of W or an image is a whole number of vectors.
    @inline(__always) static var vectorsPerRow: Int { 49 }
    @inline(__always) static var pixelScale: Float { 1 / 255 }
    /// Samples handled together by the forward and backward passes.
    @inline(__always) static var blockSize: Int { 4 }
    /// Images converted to Float before the first of them is used (a multiple of `blockSize`).
    @inline(__always) static var chunkSize: Int { 64 }
    /// Floats between one sample's logits and the next: 10 logits and 6 padding lanes, so that
    /// the softmax works on one 16-lane vector.
    @inline(__always) static var logitStride: Int { 16 }

    /// Scratch space for one thread: a chunk of converted images and a block's logits.
    final class Workspace {
        /// (chunkSize, 784) Float pixel values 0…255, 64-byte aligned.
        let images: UnsafeMutableRawPointer
        /// (chunkSize, logitStride): logits, then probabilities, then p − y; padding lanes finite.
        let logits: UnsafeMutablePointer<Float>
        /// Where the cache-line touches of `accumulateGradient` leave their result, so that the
        /// compiler keeps the loads.
        var touched: UInt8 = 0

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

    /// Converts one image's 784 u8 pixels to Float (unscaled: 0…255).
    /// pixels: (784) u8; image: (784) Float. The loop vectorises to zero-extend and convert.
    @inline(__always)
    static func convert(pixels: UnsafePointer<UInt8>, into image: UnsafeMutableRawPointer) {
        let target = image.assumingMemoryBound(to: Float.self)
        for i in 0 ..< features { target[i] = Float(pixels[i]) }
    }

    /// The sum of 16 lanes as a fixed tree of additions (8 + 8, 4 + 4, 2 + 2, 1 + 1).
    @inline(__always)
    static func horizontalSum(_ v: SIMD16<Float>) -> Float {
        let eight = v.lowHalf + v.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    /// z_s = W (image_s / 255) + b for two converted images at once.
    /// W: (10, 784) row-major; b: (10); first, second: (784) Float pixel values; z0, z1: (10), written.
    /// The 20 accumulators (2 samples × 10 classes) live in vector registers; each W vector loaded
    /// feeds two fused multiply-adds. Never inlined, so that its register allocation does not
    /// depend on the caller.
    @inline(never)
    static func logits(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                       first x0: UnsafeRawPointer, second x1: UnsafeRawPointer,
                       into z0: UnsafeMutablePointer<Float>, _ z1: UnsafeMutablePointer<Float>)
    {
        let w = UnsafeRawPointer(weights)
        let row = features * 4
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>(), a4 = SIMD16<Float>()
        var a5 = SIMD16<Float>(), a6 = SIMD16<Float>(), a7 = SIMD16<Float>(), a8 = SIMD16<Float>(), a9 = SIMD16<Float>()
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>(), b2 = SIMD16<Float>(), b3 = SIMD16<Float>(), b4 = SIMD16<Float>()
        var b5 = SIMD16<Float>(), b6 = SIMD16<Float>(), b7 = SIMD16<Float>(), b8 = SIMD16<Float>(), b9 = SIMD16<Float>()
        for v in 0 ..< vectorsPerRow {
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
        @inline(__always) func finish(_ sum: SIMD16<Float>, _ k: Int) -> Float {
            horizontalSum(sum) * pixelScale + bias[k]
        }
        z0[0] = finish(a0, 0); z0[1] = finish(a1, 1); z0[2] = finish(a2, 2); z0[3] = finish(a3, 3); z0[4] = finish(a4, 4)
        z0[5] = finish(a5, 5); z0[6] = finish(a6, 6); z0[7] = finish(a7, 7); z0[8] = finish(a8, 8); z0[9] = finish(a9, 9)
        z1[0] = finish(b0, 0); z1[1] = finish(b1, 1); z1[2] = finish(b2, 2); z1[3] = finish(b3, 3); z1[4] = finish(b4, 4)
        z1[5] = finish(b5, 5); z1[6] = finish(b6, 6); z1[7] = finish(b7, 7); z1[8] = finish(b8, 8); z1[9] = finish(b9, 9)
    }

    /// Computes the logits of images 0..<count of `pixels`, two at a time, and hands each image's
    /// 10 logits to `visit(n, z)`, which may overwrite them.
    /// W: (10, 784); b: (10); pixels: (count, 784) u8.
    @inline(__always)
    static func forEachLogits(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, pixels: UnsafePointer<UInt8>,
                              count: Int, workspace: Workspace, _ visit: (Int, UnsafeMutablePointer<Float>) -> Void)
    {
        let z = workspace.logits
        for chunk in stride(from: 0, to: count, by: chunkSize) {
            let chunkCount = min(chunkSize, count - chunk)
            for slot in 0 ..< chunkCount {
                convert(pixels: pixels + (chunk + slot) * features, into: workspace.image(slot))
            }
            for first in stride(from: 0, to: chunkCount, by: 2) {
                // An odd last image is paired with itself.
                let second = min(first + 1, chunkCount - 1)
                logits(weights: weights, bias: bias, first: workspace.image(first), second: workspace.image(second),
                       into: z, z + logitStride)
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
        let classLanes = SIMD16<Float>(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0)
        let exponentials = exponential(shifted) * classLanes
        let sum = horizontalSum(exponentials)
        raw.storeBytes(of: exponentials * (1 / sum), as: SIMD16<Float>.self)
        return (maximum, Float.log(sum))
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

    /// Fused forward and backward pass over the images `samples` of `pixels`.
    ///
    /// For each sample n: x = pixels[n] / 255, z = W x + b, p = softmax(z), δ = p − onehot(y_n)
    /// (the gradient of −log p_y with respect to z: the softmax Jacobian and ∂L/∂p = −y/p cancel
    /// to this), then gradW += δ xᵀ and gradB += δ. The sums are not divided by the batch size.
    /// Samples are taken four at a time in order, so the result depends only on `samples`.
    ///
    /// W: (10, 784); b: (10); pixels: (N, 784) u8; labels: (N); samples: indices into N;
    /// gradW: (10, 784) and gradB: (10), accumulated into.
    /// Returns Σ_n −log p_{y_n} (in Double) and how many argmax z_n equal y_n.
    static func accumulateGradient(
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        pixels: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>, samples: UnsafeBufferPointer<Int32>,
        gradientWeights: UnsafeMutablePointer<Float>, gradientBias: UnsafeMutablePointer<Float>,
        workspace: Workspace
    ) -> (lossSum: Double, correct: Int) {
        var lossSum = 0.0
        var correct = 0
        let z = workspace.logits
        for chunk in stride(from: 0, to: samples.count, by: chunkSize) {
            let chunkCount = min(chunkSize, samples.count - chunk)
            // 1. u8 → Float for the whole chunk. Slots past its end keep finite pixels from an
            //    earlier chunk (or zeros) and get δ = 0 below, so they add exactly nothing.
            //    The samples are in shuffled order, so their pixels are scattered over 47 MB:
            //    first touch every cache line of the chunk's images in one tight loop, so that the
            //    memory system fetches many lines at once instead of one image at a time.
            var touched: UInt8 = 0
            for slot in 0 ..< chunkCount {
                let image = pixels + Int(samples[chunk + slot]) * features
                for line in stride(from: 0, to: features, by: 64) { touched |= image[line] }
                touched |= image[features - 1]
            }
            workspace.touched = touched
            for slot in 0 ..< chunkCount {
                convert(pixels: pixels + Int(samples[chunk + slot]) * features, into: workspace.image(slot))
            }
            // 2. Logits for the whole chunk, two images at a time, while W stays in L1. (An odd
            //    last image is paired with a padding slot, whose logits are discarded.)
            for pair in stride(from: 0, to: chunkCount, by: 2) {
                logits(weights: weights, bias: bias, first: workspace.image(pair), second: workspace.image(pair + 1),
                       into: z + pair * logitStride, z + (pair + 1) * logitStride)
            }
            let paddedCount = (chunkCount + blockSize - 1) / blockSize * blockSize
            for slot in 0 ..< paddedCount {
                let delta = z + slot * logitStride
                guard slot < chunkCount else {
                    delta.update(repeating: 0, count: logitStride)
                    continue
                }
                // 3. The stable softmax; −log p_y = log Σ e^{z_j − m} − (z_y − m).
                let label = Int(labels[Int(samples[chunk + slot])])
                if argmax(delta) == label { correct += 1 }
                let labelLogit = delta[label]
                let (maximum, logSum) = softmaxInPlace(delta)
                lossSum += Double(logSum - (labelLogit - maximum))
                // 4. δ = p − y, scaled by 1/255 for the weights (the bias takes it unscaled).
                //    Values below Float's smallest normal (about 1.2e−38) are flushed to zero: they
                //    change no sum, and subnormal operands would cost a microcode assist in each
                //    multiply-add that uses them.
                delta[label] -= 1
                for k in 0 ..< classes {
                    let scaled = delta[k] * pixelScale
                    let isNormal = abs(scaled) >= Float.leastNormalMagnitude
                    gradientBias[k] += isNormal ? delta[k] : 0
                    delta[k] = isNormal ? scaled : 0
                }
            }
            // 5. gradW += Σ_s δ_s pixels_sᵀ, four images at a time, while the gradient stays in L1.
            for block in stride(from: 0, to: paddedCount, by: blockSize) {
                addOuterProducts(deltas: z + block * logitStride, images: workspace.image(block), into: gradientWeights)
            }
        }
        return (lossSum, correct)
    }

    /// gradW[k] += Σ_{s<4} δ[s][k] · image_s for every class k.
    /// deltas: (4, logitStride), the first 10 of each used; images: (4, 784) Float;
    /// gradW: (10, 784), accumulated into.
    /// Five classes at a time: their 4 × 5 δ broadcasts stay in registers, and each vector of the
    /// four images and of the five gradient rows is loaded once for twenty fused multiply-adds.
    /// Never inlined, like `logits`.
    @inline(never)
    static func addOuterProducts(deltas: UnsafePointer<Float>, images: UnsafeRawPointer,
                                 into gradientWeights: UnsafeMutablePointer<Float>)
    {
        let gradient = UnsafeMutableRawPointer(gradientWeights)
        let row = features * 4
        for first in stride(from: 0, to: classes, by: 5) {
            @inline(__always) func delta(_ sample: Int, _ k: Int) -> SIMD16<Float> {
                SIMD16(repeating: deltas[sample * logitStride + first + k])
            }
            let d00 = delta(0, 0), d01 = delta(0, 1), d02 = delta(0, 2), d03 = delta(0, 3), d04 = delta(0, 4)
            let d10 = delta(1, 0), d11 = delta(1, 1), d12 = delta(1, 2), d13 = delta(1, 3), d14 = delta(1, 4)
            let d20 = delta(2, 0), d21 = delta(2, 1), d22 = delta(2, 2), d23 = delta(2, 3), d24 = delta(2, 4)
            let d30 = delta(3, 0), d31 = delta(3, 1), d32 = delta(3, 2), d33 = delta(3, 3), d34 = delta(3, 4)
            for v in 0 ..< vectorsPerRow {
                let offset = 64 * v
                let x0 = images.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                let x1 = images.load(fromByteOffset: row + offset, as: SIMD16<Float>.self)
                let x2 = images.load(fromByteOffset: 2 * row + offset, as: SIMD16<Float>.self)
                let x3 = images.load(fromByteOffset: 3 * row + offset, as: SIMD16<Float>.self)
                @inline(__always) func update(_ k: Int, _ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>, _ d: SIMD16<Float>) {
                    let address = (first + k) * row + offset
                    var sum = gradient.load(fromByteOffset: address, as: SIMD16<Float>.self)
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
