/// The parameters of a `SoftmaxModel` in aligned memory, and the fused gradient of a batch
/// computed on every thread of a `ShardPool`.
///
/// A batch is cut into one contiguous shard of samples per thread (`ShardPool.range`); each
/// thread runs `SoftmaxKernel.accumulateGradient` on its shard into its own buffer. The buffers
/// are then added in shard order, each thread adding (and, for training, applying) one slice of
/// the parameters. The result therefore depends on the samples and the thread count, and never on
/// timing: the same seed and the same thread count give bit-identical weights.
final class ShardedGradient {
    static let weightCount = SoftmaxModel.classCount * SoftmaxModel.featureCount
    static let parameterCount = weightCount + SoftmaxModel.classCount
    /// Floats between shard buffers: 7850 rounded up to whole 64-byte lines.
    static let shardStride = (parameterCount + 15) / 16 * 16

    let pool: ShardPool
    private let workspaces: [SoftmaxKernel.Workspace]
    /// (7850): W (10, 784) row-major then b (10), 64-byte aligned so that no vector load of W
    /// straddles two cache lines.
    let parameters: UnsafeMutablePointer<Float>
    /// (7850): the momentum step's velocity, laid out like `parameters`.
    private let velocity: UnsafeMutablePointer<Float>
    /// (threads, shardStride): per shard, ∂W (10, 784) row-major then ∂b (10); 64-byte aligned.
    private let shardGradients: UnsafeMutablePointer<Float>
    /// Per shard: Σ −log p_y, the number of correct predictions, and a slice's ‖W‖².
    private let shardResults: UnsafeMutablePointer<(lossSum: Double, correct: Int, squaredNorm: Double)>

    /// Threads over the parameters of `model`.
    init(threadCount: Int, model: SoftmaxModel) {
        pool = ShardPool(threadCount: threadCount)
        workspaces = (0 ..< threadCount).map { _ in SoftmaxKernel.Workspace() }
        parameters = allocateAlignedFloats(count: Self.parameterCount)
        velocity = allocateAlignedFloats(count: Self.parameterCount)
        shardGradients = allocateAlignedFloats(count: threadCount * Self.shardStride)
        shardResults = .allocate(capacity: threadCount)
        shardResults.initialize(repeating: (0, 0, 0), count: threadCount)
        model.weights.withUnsafeBufferPointer { parameters.update(from: $0.baseAddress!, count: Self.weightCount) }
        model.bias.withUnsafeBufferPointer { (parameters + Self.weightCount).update(from: $0.baseAddress!, count: SoftmaxModel.classCount) }
    }

    deinit {
        parameters.deallocate()
        velocity.deallocate()
        shardGradients.deallocate()
        shardResults.deallocate()
    }

    var threadCount: Int { pool.threadCount }

    /// The current parameters as a model.
    var model: SoftmaxModel {
        SoftmaxModel(weights: Array(UnsafeBufferPointer(start: parameters, count: Self.weightCount)),
                     bias: Array(UnsafeBufferPointer(start: parameters + Self.weightCount, count: SoftmaxModel.classCount)))
    }

    /// Each shard's Σ_n (p_n − y_n) x_nᵀ and Σ_n (p_n − y_n) over its part of `samples`, into its
    /// own buffer; returns Σ_n −log p_{y_n} and the number of correct argmax predictions.
    /// data: (N, 784) u8; samples: indices into N.
    func accumulate(on data: LabeledImages, samples: UnsafeBufferPointer<Int32>) -> (lossSum: Double, correct: Int) {
        let threads = threadCount
        data.pixels.withUnsafeBufferPointer { pixels in
            data.labels.withUnsafeBufferPointer { labels in
                pool.run { shard in
                    let gradient = shardGradients + shard * Self.shardStride
                    gradient.update(repeating: 0, count: Self.parameterCount)
                    let range = ShardPool.range(ofShard: shard, of: threads, count: samples.count)
                    let (lossSum, correct) = SoftmaxKernel.accumulateGradient(
                        weights: parameters, bias: parameters + Self.weightCount,
                        pixels: pixels.baseAddress!, labels: labels.baseAddress!,
                        samples: UnsafeBufferPointer(rebasing: samples[range]),
                        gradientWeights: gradient, gradientBias: gradient + Self.weightCount,
                        workspace: workspaces[shard])
                    shardResults[shard] = (lossSum, correct, 0)
                }
            }
        }
        return (0 ..< threads).reduce((0.0, 0)) { ($0.0 + shardResults[$1].lossSum, $0.1 + shardResults[$1].correct) }
    }

    /// The summed gradient of the last `accumulate`, added in shard order: (7850), unscaled.
    func gradientSum() -> [Float] {
        (0 ..< Self.parameterCount).map { i in
            (1 ..< threadCount).reduce(shardGradients[i]) { $0 + shardGradients[$1 * Self.shardStride + i] }
        }
    }

    /// One momentum step from the last `accumulate`, each thread taking one slice of the
    /// parameters: g = Σ_shards gradient / B + λW (no λ on the bias), v ← μv − ηg, θ ← θ + v.
    /// Returns ‖W‖² before the step (for the loss).
    func momentumStep(batchSize: Int, learningRate: Float, momentum: Float, l2: Float) -> Double {
        let threads = threadCount, scale = 1 / Float(batchSize)
        pool.run { shard in
            // W: 7840 = 490 vectors of 16, split into whole vectors so that no two threads write
            // to one cache line; the last shard also takes the 10 biases.
            let gradients = UnsafeRawPointer(shardGradients), weights = UnsafeMutableRawPointer(parameters)
            let speeds = UnsafeMutableRawPointer(velocity)
            var squaredNorm = SIMD16<Float>()
            for vector in ShardPool.range(ofShard: shard, of: threads, count: Self.weightCount / 16) {
                let offset = 64 * vector
                var gradient = gradients.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                for other in 1 ..< threads {
                    gradient += gradients.load(fromByteOffset: other * Self.shardStride * 4 + offset, as: SIMD16<Float>.self)
                }
                let weight = weights.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                squaredNorm.addProduct(weight, weight)
                let speed = momentum * speeds.load(fromByteOffset: offset, as: SIMD16<Float>.self)
                    - learningRate * (gradient * scale + l2 * weight)
                speeds.storeBytes(of: speed, toByteOffset: offset, as: SIMD16<Float>.self)
                weights.storeBytes(of: weight + speed, toByteOffset: offset, as: SIMD16<Float>.self)
            }
            if shard == threads - 1 {
                for i in Self.weightCount ..< Self.parameterCount {
                    let gradient = (1 ..< threads).reduce(shardGradients[i]) { $0 + shardGradients[$1 * Self.shardStride + i] }
                    velocity[i] = momentum * velocity[i] - learningRate * gradient * scale
                    parameters[i] += velocity[i]
                }
            }
            shardResults[shard].squaredNorm = Double(SoftmaxKernel.horizontalSum(squaredNorm))
        }
        return (0 ..< threads).reduce(0.0) { $0 + shardResults[$1].squaredNorm }
    }

    /// True when every parameter is finite.
    var isFinite: Bool {
        UnsafeBufferPointer(start: parameters, count: Self.parameterCount).allSatisfy(\.isFinite)
    }
}

/// `count` Floats at a 64-byte boundary, zeroed. Deallocate with `deallocate()`.
func allocateAlignedFloats(count: Int) -> UnsafeMutablePointer<Float> {
    let floats = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        .bindMemory(to: Float.self, capacity: count)
    floats.initialize(repeating: 0, count: count)
    return floats
}
