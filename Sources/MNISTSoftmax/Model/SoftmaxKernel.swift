import RealModule

/// The fast kernels for the 784→10 model on UInt8 pixels, in Float with 16-lane SIMD vectors.
/// `ReferenceMath` is the readable version of the same math; the tests hold the two together.
///
/// One trick throughout: x = pixel / 255, so W x = (W · pixel) / 255. The kernels work on the
/// raw pixel values and apply 1/255 once per logit (forward) and once per class (backward),
/// instead of once per pixel.
enum SoftmaxKernel {
    static let classes = SoftmaxModel.classCount
    static let features = SoftmaxModel.featureCount
    /// 784 = 49 × 16, so a row of W or an image is a whole number of vectors.
    static let vectorsPerRow = features / 16
    static let pixelScale: Float = 1 / 255

    /// Converts one image's 784 u8 pixels to Float (unscaled: 0…255) in `image`.
    /// pixels: (784) u8; image: (784) Float, 64-byte aligned.
    @inline(__always)
    static func convert(pixels: UnsafePointer<UInt8>, into image: UnsafeMutableRawPointer) {
        let source = UnsafeRawPointer(pixels)
        for v in 0 ..< vectorsPerRow {
            image.storeBytes(of: SIMD16<Float>(source.loadUnaligned(fromByteOffset: 16 * v, as: SIMD16<UInt8>.self)),
                             toByteOffset: 64 * v, as: SIMD16<Float>.self)
        }
    }

    /// z = W (pixel / 255) + b for one converted image.
    /// W: (10, 784) row-major; b: (10); image: (784) Float pixel values 0…255, from `convert`;
    /// z: (10), written.
    @inline(__always)
    static func logits(weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, image: UnsafeRawPointer,
                       into z: UnsafeMutablePointer<Float>)
    {
        let w = UnsafeRawPointer(weights)
        for k in 0 ..< classes {
            // Two accumulators halve the dependency chain of the additions.
            var even = SIMD16<Float>(), odd = SIMD16<Float>()
            let row = k * features * 4
            var v = 0
            while v + 1 < vectorsPerRow {
                even += w.loadUnaligned(fromByteOffset: row + 64 * v, as: SIMD16<Float>.self)
                    * image.load(fromByteOffset: 64 * v, as: SIMD16<Float>.self)
                odd += w.loadUnaligned(fromByteOffset: row + 64 * (v + 1), as: SIMD16<Float>.self)
                    * image.load(fromByteOffset: 64 * (v + 1), as: SIMD16<Float>.self)
                v += 2
            }
            even += w.loadUnaligned(fromByteOffset: row + 64 * v, as: SIMD16<Float>.self)
                * image.load(fromByteOffset: 64 * v, as: SIMD16<Float>.self)
            z[k] = (even + odd).sum() * pixelScale + bias[k]
        }
    }

    /// Space for one converted image: 784 Floats, 64-byte aligned. The caller deallocates it.
    static func allocateImageBuffer() -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer.allocate(byteCount: features * MemoryLayout<Float>.size, alignment: 64)
    }

    /// Turns 10 logits into probabilities in place and returns the log of the normaliser
    /// relative to the maximum, log Σ e^{z_j − m}, together with m.
    ///
    /// The maximum is subtracted before exponentiating: the ratio is unchanged, every exponent is
    /// ≤ 0, and logits of ±1000 stay finite. Then −log p_y = logSum − (z_y − m).
    @inline(__always)
    static func softmaxInPlace(_ z: UnsafeMutablePointer<Float>) -> (maximum: Float, logSum: Float) {
        var maximum = z[0]
        for k in 1 ..< classes where z[k] > maximum { maximum = z[k] }
        var sum: Float = 0
        for k in 0 ..< classes {
            z[k] = Float.exp(z[k] - maximum)
            sum += z[k]
        }
        let inverse = 1 / sum
        for k in 0 ..< classes { z[k] *= inverse }
        return (maximum, Float.log(sum))
    }

    static func softmaxInPlace(_ z: inout [Float]) {
        z.withUnsafeMutableBufferPointer { _ = softmaxInPlace($0.baseAddress!) }
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
    /// (the gradient of −log p_y with respect to z, which needs no softmax Jacobian), then
    /// gradW += δ xᵀ and gradB += δ. The sums are not divided by the batch size.
    ///
    /// W: (10, 784); b: (10); pixels: (N, 784) u8; labels: (N); samples: indices into N;
    /// gradW: (10, 784) and gradB: (10), accumulated into.
    /// Returns Σ_n −log p_{y_n} (in Double) and how many argmax z_n equal y_n.
    static func accumulateGradient(
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        pixels: UnsafePointer<UInt8>, labels: UnsafePointer<UInt8>, samples: UnsafeBufferPointer<Int32>,
        gradientWeights: UnsafeMutablePointer<Float>, gradientBias: UnsafeMutablePointer<Float>
    ) -> (lossSum: Double, correct: Int) {
        var lossSum = 0.0
        var correct = 0
        let z = UnsafeMutablePointer<Float>.allocate(capacity: classes)
        defer { z.deallocate() }
        let image = allocateImageBuffer()
        defer { image.deallocate() }
        let gradient = UnsafeMutableRawPointer(gradientWeights)

        for sample in samples {
            let label = Int(labels[Int(sample)])
            // 1. u8 → Float, once per image while it is in cache.
            convert(pixels: pixels + Int(sample) * features, into: image)
            // 2–3. logits and the stable softmax; −log p_y = log Σ e^{z_j − m} − (z_y − m).
            logits(weights: weights, bias: bias, image: image, into: z)
            if argmax(z) == label { correct += 1 }
            let labelLogit = z[label]
            let (maximum, logSum) = softmaxInPlace(z)
            lossSum += Double(logSum - (labelLogit - maximum))
            // 4. δ = p − y.
            z[label] -= 1
            // 5. gradW += (δ / 255) · pixelsᵀ, gradB += δ.
            for k in 0 ..< classes {
                gradientBias[k] += z[k]
                let scaled = SIMD16<Float>(repeating: z[k] * pixelScale)
                let row = k * features * 4
                for v in 0 ..< vectorsPerRow {
                    let offset = row + 64 * v
                    let sum = gradient.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
                        + scaled * image.load(fromByteOffset: 64 * v, as: SIMD16<Float>.self)
                    gradient.storeBytes(of: sum, toByteOffset: offset, as: SIMD16<Float>.self)
                }
            }
        }
        return (lossSum, correct)
    }
}
