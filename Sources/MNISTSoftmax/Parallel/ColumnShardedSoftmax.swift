import RealModule

/// The parameters of a `SoftmaxModel` split by pixel columns over the threads of a `ShardPool`,
/// and the fused forward and backward pass over blocks of samples.
///
/// Thread t owns a contiguous range of columns of W (whole 16-float vectors), and the same
/// columns of the velocity and of the gradient, each in a buffer of its own: (10, its columns)
/// row-major. For each block of samples:
/// 1. forward: each thread converts its columns of every image to Float and computes the partial
///    logits Σ_{j in its columns} W[k, j] · pixel[j] for every sample and class;
/// 2. each thread takes a share of the block's samples, adds the partials of all threads, in
///    thread order, to the logits z = (Σ partials) / 255 + b, and computes the cost and
///    δ = ∂L/∂z (p − y for the softmax cross-entropy) into a shared buffer; a barrier follows;
/// 3. backward: each thread adds Σ_s δ_s x_sᵀ for all the block's samples into its own columns
///    of the gradient, and Σ_s δ_s, in sample order, into its own copy of the bias gradient;
/// 4. at the end of a step, each thread applies the momentum update to its own columns.
///
/// Only the partial logits and δ (16 Floats per sample each) cross between cores; W, its
/// velocity and the gradient stay in the cache of the core that owns them. (Measured: with the
/// slices cut from one shared (10, 784) array, even at cache-line boundaries, two threads took
/// 54 ms per epoch, no faster than one; with a buffer per thread, 32 ms.) The bias is ten
/// numbers: every thread keeps its own copy and updates it with the same arithmetic.
///
/// A block's δ, its backward pass and the next block's forward pass run in one `ShardPool.run`,
/// so a batch costs one synchronisation and one barrier. The partials are double-buffered: a thread may start the next
/// block's forward pass while another still reads this block's partials.
///
/// Every sum runs in a fixed order (samples in order, threads in order), so the result depends
/// on the samples and the thread count, never on timing.
final class ColumnShardedSoftmax {
    static let weightCount = SoftmaxModel.classCount * SoftmaxModel.featureCount
    /// The most samples converted and held at once per thread. A larger step (a full-batch
    /// gradient) runs as several blocks that add into the same gradient.
    static let maximumBlock = 256
    /// Sample slots per block buffer: room for the padding of an odd pair and of a group of four.
    private static let blockSlots = maximumBlock + 4

    /// What one step (a batch, or the whole sample list) gave.
    struct StepResult {
        /// Samples in the step.
        let count: Int
        /// Σ L_n (−log p_y for the softmax cross-entropy) over the step's samples, at the weights
        /// the step saw.
        let lossSum: Double
        /// How many argmax z equal the label.
        let correct: Int
        /// ‖W‖² at the weights the step saw (only when the step was followed by an update).
        let squaredNorm: Double
    }

    /// The momentum update after each step: g = gradient / B + λW (no λ on the bias),
    /// v ← μv − ηg, then θ ← θ + v, or with Nesterov's momentum θ ← θ + μv − ηg (the gradient
    /// step taken again from where momentum is heading).
    struct MomentumUpdate {
        let learningRate: Float
        let momentum: Float
        let nesterov: Bool
        let l2: Float
    }

    /// One thread's columns and scratch space.
    private final class Shard {
        /// The vectors of 16 columns this thread owns, within 0..<49.
        let columns: Range<Int>
        /// (blockSlots, columns.count · 16) Float pixel values 0…255 of its columns, 64-byte aligned.
        let images: UnsafeMutableRawPointer
        /// (10, width) row-major each, width = columns.count · 16, 64-byte aligned: this thread's
        /// columns of W, of their velocity, and of the step's Σ δ pixelsᵀ / 255.
        let weights: UnsafeMutablePointer<Float>
        let velocity: UnsafeMutablePointer<Float>
        let gradient: UnsafeMutablePointer<Float>
        /// (16) each: this thread's copy of b, of its velocity, and Σ δ over the step.
        let bias: UnsafeMutablePointer<Float>
        let biasVelocity: UnsafeMutablePointer<Float>
        let biasGradient: UnsafeMutablePointer<Float>
        /// Over the step so far, for its share of each block's samples: Σ L_n and the correct count.
        var lossSum = 0.0
        var correct = 0
        var squaredNorm = 0.0

        init(columns: Range<Int>) {
            self.columns = columns
            images = UnsafeMutableRawPointer(allocateAlignedFloats(count: ColumnShardedSoftmax.blockSlots * max(columns.count, 1) * 16))
            let slice = SoftmaxModel.classCount * max(columns.count, 1) * 16
            weights = allocateAlignedFloats(count: slice)
            velocity = allocateAlignedFloats(count: slice)
            gradient = allocateAlignedFloats(count: slice)
            bias = allocateAlignedFloats(count: 16)
            biasVelocity = allocateAlignedFloats(count: 16)
            biasGradient = allocateAlignedFloats(count: 16)
        }

        deinit {
            images.deallocate()
            weights.deallocate()
            velocity.deallocate()
            gradient.deallocate()
            bias.deallocate()
            biasVelocity.deallocate()
            biasGradient.deallocate()
        }

        /// Floats in a row of its slices.
        var width: Int { columns.count * 16 }
        /// Bytes from one converted image to the next.
        var imageStride: Int { columns.count * 64 }
    }

    let pool: ShardPool
    private let shards: [Shard]
    /// (2, threads, blockSlots, 16): each thread's partial logits, for even and odd blocks.
    private let partials: UnsafeMutablePointer<Float>
    /// (blockSlots, 16) each, shared: the block's δ = ∂L/∂z, and δ/255 flushed below Float's
    /// smallest normal for the weights (padding lanes and slots 0). Each thread writes its share
    /// of the samples, then all read all of them after a barrier.
    private let deltas: UnsafeMutablePointer<Float>
    private let scaledDeltas: UnsafeMutablePointer<Float>

    /// The cost whose gradient the backward pass forms.
    let lossFunction: LossFunction

    /// `threadCount` threads over the parameters of `model`, with zero velocity, for the cost
    /// `lossFunction`.
    init(threadCount: Int, model: SoftmaxModel, lossFunction: LossFunction) {
        self.lossFunction = lossFunction
        pool = ShardPool(threadCount: threadCount)
        shards = (0 ..< threadCount).map {
            Shard(columns: ShardPool.range(ofShard: $0, of: threadCount, count: SoftmaxKernel.vectorsPerRow))
        }
        partials = allocateAlignedFloats(count: 2 * threadCount * Self.blockSlots * 16)
        deltas = allocateAlignedFloats(count: Self.blockSlots * 16)
        scaledDeltas = allocateAlignedFloats(count: Self.blockSlots * 16)
        self.model = model
    }

    deinit {
        partials.deallocate()
        deltas.deallocate()
        scaledDeltas.deallocate()
    }

    var threadCount: Int { pool.threadCount }

    /// The current parameters. Setting them keeps the velocity.
    var model: SoftmaxModel {
        get { gathered(\.weights, bias: \.bias) }
        set { scatter(newValue, into: \.weights, bias: \.bias) }
    }

    /// The momentum velocity of W and b, in a model's shapes.
    var velocityModel: SoftmaxModel {
        get { gathered(\.velocity, bias: \.biasVelocity) }
        set { scatter(newValue, into: \.velocity, bias: \.biasVelocity) }
    }

    /// The gradient sums of the last step: Σ_n (p_n − y_n) x_nᵀ (10, 784) and Σ_n (p_n − y_n) (10),
    /// not divided by the step's size.
    var gradientSum: (weights: [Float], bias: [Float]) {
        let sum = gathered(\.gradient, bias: \.biasGradient)
        return (sum.weights, sum.bias)
    }

    /// The (10, 784) matrix whose column slices are every shard's `slice` buffer, and the first
    /// shard's 10 values of `bias`, as a model.
    private func gathered(_ slice: KeyPath<Shard, UnsafeMutablePointer<Float>>, bias: KeyPath<Shard, UnsafeMutablePointer<Float>>)
        -> SoftmaxModel
    {
        var matrix = [Float](repeating: 0, count: Self.weightCount)
        for shard in shards where shard.width > 0 {
            for k in 0 ..< SoftmaxModel.classCount {
                for j in 0 ..< shard.width {
                    matrix[k * SoftmaxKernel.features + shard.columns.lowerBound * 16 + j] = shard[keyPath: slice][k * shard.width + j]
                }
            }
        }
        return SoftmaxModel(weights: matrix, bias: Array(UnsafeBufferPointer(start: shards[0][keyPath: bias], count: SoftmaxModel.classCount)))
    }

    /// Copies the column slices of `model`'s W into every shard's `slice` buffer, and its b into
    /// every shard's `bias` buffer.
    private func scatter(_ model: SoftmaxModel, into slice: KeyPath<Shard, UnsafeMutablePointer<Float>>,
                         bias: KeyPath<Shard, UnsafeMutablePointer<Float>>)
    {
        for shard in shards {
            for k in 0 ..< SoftmaxModel.classCount {
                for j in 0 ..< shard.width {
                    shard[keyPath: slice][k * shard.width + j] = model.weights[k * SoftmaxKernel.features + shard.columns.lowerBound * 16 + j]
                }
            }
            model.bias.withUnsafeBufferPointer { shard[keyPath: bias].update(from: $0.baseAddress!, count: SoftmaxModel.classCount) }
        }
    }

    /// True when every logit z = W x + b is finite for every x in [0, 1]^784: for each class k,
    /// Σ_j |W[k, j]| + |b_k| is finite. (Finite weights alone are not enough: weights near
    /// Float's largest value overflow the dot product.)
    var logitsAreFinite: Bool {
        (0 ..< SoftmaxKernel.classes).allSatisfy { k in
            shards.reduce(abs(shards[0].bias[k])) { sum, shard in
                UnsafeBufferPointer(start: shard.weights + k * shard.width, count: shard.width).reduce(sum) { $0 + abs($1) }
            }.isFinite
        }
    }

    /// The fused forward and backward pass over `samples` of `data`, in steps of `stepSize`
    /// samples (the last may be shorter). After each step, `update` (when given) changes the
    /// parameters and `afterStep` sees the step's result; an error it throws ends the pass.
    /// data: (N, 784) u8 with labels; samples: indices into N.
    func pass(over samples: UnsafeBufferPointer<Int32>, of data: LabeledImages, stepSize: Int, update: MomentumUpdate?,
              afterStep: (StepResult) throws -> Void) rethrows
    {
        precondition(stepSize > 0 && !samples.isEmpty, "a pass needs samples")
        // Blocks of at most `maximumBlock` samples, as even as possible within each step.
        var blocks: [(samples: Range<Int>, startsStep: Bool, endsStep: Bool)] = []
        for stepStart in stride(from: 0, to: samples.count, by: stepSize) {
            let count = min(stepSize, samples.count - stepStart)
            let blockCount = (count + Self.maximumBlock - 1) / Self.maximumBlock
            for block in 0 ..< blockCount {
                let range = ShardPool.range(ofShard: block, of: blockCount, count: count)
                blocks.append((range.lowerBound + stepStart ..< range.upperBound + stepStart, block == 0, block == blockCount - 1))
            }
        }
        try data.pixels.withUnsafeBufferPointer { pixels in
            try data.labels.withUnsafeBufferPointer { labels in
                let pixels = pixels.baseAddress!, labels = labels.baseAddress!
                // The samples of block `index`, if there is one.
                func blockSamples(_ index: Int) -> UnsafeBufferPointer<Int32>? {
                    index < blocks.count ? UnsafeBufferPointer(rebasing: samples[blocks[index].samples]) : nil
                }
                pool.run { forward(samples: blockSamples(0)!, prefetching: blockSamples(1), pixels: pixels, parity: 0, shard: $0) }
                var stepStart = 0
                for (index, block) in blocks.enumerated() {
                    let current = blockSamples(index)!
                    let stepCount = block.samples.upperBound - stepStart
                    pool.run { shard in
                        logitGradients(samples: current, labels: labels, parity: index & 1, startsStep: block.startsStep, shard: shard)
                        pool.barrier()
                        backward(count: current.count, startsStep: block.startsStep, shard: shard)
                        if block.endsStep, let update {
                            applyUpdate(update, batchSize: stepCount, shard: shard)
                        }
                        if let next = blockSamples(index + 1) {
                            forward(samples: next, prefetching: blockSamples(index + 2), pixels: pixels, parity: (index + 1) & 1, shard: shard)
                        }
                    }
                    if block.endsStep {
                        stepStart = block.samples.upperBound
                        let squaredNorm = update == nil ? 0 : shards.reduce(0.0) { $0 + $1.squaredNorm }
                        try afterStep(StepResult(count: stepCount, lossSum: shards.reduce(0.0) { $0 + $1.lossSum },
                                                 correct: shards.reduce(0) { $0 + $1.correct }, squaredNorm: squaredNorm))
                    }
                }
            }
        }
    }

    /// (blockSlots, 16): thread `shard`'s partial logits for blocks of `parity`.
    private func partialLogits(parity: Int, shard: Int) -> UnsafeMutablePointer<Float> {
        partials + (parity * threadCount + shard) * Self.blockSlots * 16
    }

    /// Step 1 for thread `shard`: converts its columns of each sample's image, then writes the
    /// partial logits Σ_{j in columns} W[k, j] · pixel[j] (no 1/255, no bias). In between, it
    /// prefetches its columns of the images of the block after (`next`): the samples are in
    /// shuffled order, so each image is a cache miss that the hardware cannot predict, and the
    /// conversion would otherwise wait on memory.
    /// samples, next: indices into pixels (N, 784) u8.
    private func forward(samples: UnsafeBufferPointer<Int32>, prefetching next: UnsafeBufferPointer<Int32>?,
                         pixels: UnsafePointer<UInt8>, parity: Int, shard index: Int)
    {
        let shard = shards[index]
        let partial = partialLogits(parity: parity, shard: index)
        let vectorCount = shard.columns.count, stride = shard.imageStride
        guard vectorCount > 0 else {
            // More threads than vectors: this thread owns no columns and contributes zeros.
            partial.update(repeating: 0, count: (samples.count + 1) * 16)
            return
        }
        let firstColumn = shard.columns.lowerBound * 16
        let next = next ?? UnsafeBufferPointer(start: nil, count: 0)
        let pairs = (samples.count + 1) / 2
        let prefetchesPerPair = (next.count + pairs - 1) / pairs
        // Eight images at a time: converted together (a vector load right after the narrower
        // stores that wrote it would stall on store-to-load forwarding), then used while they
        // are still in L1, two at a time. An odd last image is paired with a stale (finite) slot
        // whose partials are never read. Each pair's multiply-adds hide the prefetches of a share
        // of the next block's images, so that a few misses are in flight at a time, never hundreds.
        for chunk in Swift.stride(from: 0, to: samples.count, by: 8) {
            for slot in chunk ..< min(chunk + 8, samples.count) {
                SoftmaxKernel.convert(pixels: pixels + Int(samples[slot]) * SoftmaxKernel.features + firstColumn,
                                      count: vectorCount * 16, into: shard.images + slot * stride)
            }
            for pair in Swift.stride(from: chunk, to: min(chunk + 8, samples.count), by: 2) {
                SoftmaxKernel.dotProducts(weights: shard.weights, rowStride: shard.width, vectorCount: vectorCount,
                                          first: shard.images + pair * stride, second: shard.images + (pair + 1) * stride,
                                          into: partial + pair * 16, partial + (pair + 1) * 16)
                let index = pair / 2
                for sample in next[min(index * prefetchesPerPair, next.count) ..< min((index + 1) * prefetchesPerPair, next.count)] {
                    SoftmaxKernel.prefetch(pixels + Int(sample) * SoftmaxKernel.features + firstColumn, count: vectorCount * 16)
                }
            }
        }
    }

    /// Step 2 for thread `shard`, on its share of the block's samples: the logits from every
    /// thread's partials, then the cost and δ = ∂L/∂z (p − y for the softmax cross-entropy) into
    /// the shared `deltas` and δ/255 into `scaledDeltas`. `startsStep` zeroes its loss sums first.
    /// samples: the block's indices into labels (N) u8.
    private func logitGradients(samples: UnsafeBufferPointer<Int32>, labels: UnsafePointer<UInt8>, parity: Int, startsStep: Bool,
                                shard index: Int)
    {
        let shard = shards[index]
        if startsStep {
            shard.lossSum = 0
            shard.correct = 0
        }
        let bias = UnsafeRawPointer(shard.bias).load(as: SIMD16<Float>.self)
        var lossSum = 0.0, correct = 0
        for slot in ShardPool.range(ofShard: index, of: threadCount, count: samples.count) {
            var sum = UnsafeRawPointer(partialLogits(parity: parity, shard: 0) + slot * 16).load(as: SIMD16<Float>.self)
            for other in 1 ..< threadCount {
                sum += UnsafeRawPointer(partialLogits(parity: parity, shard: other) + slot * 16).load(as: SIMD16<Float>.self)
            }
            let z = deltas + slot * 16
            UnsafeMutableRawPointer(z).storeBytes(of: sum * SoftmaxKernel.pixelScale + bias, as: SIMD16<Float>.self)
            let (loss, isCorrect) = SoftmaxKernel.logitGradient(lossFunction, logits: z, label: Int(labels[Int(samples[slot])]))
            lossSum += Double(loss)
            if isCorrect { correct += 1 }
            // δ/255 for the weights: x = pixel/255 is folded in here, once per class.
            let delta = UnsafeRawPointer(z).load(as: SIMD16<Float>.self)
            UnsafeMutableRawPointer(scaledDeltas + slot * 16).storeBytes(
                of: SoftmaxKernel.flushedToZeroBelowNormal(delta * SoftmaxKernel.pixelScale), as: SIMD16<Float>.self)
        }
        if index == threadCount - 1 {
            // Padding slots up to a multiple of four get δ = 0 and so add nothing.
            let padded = (samples.count + 3) / 4 * 4
            (scaledDeltas + samples.count * 16).update(repeating: 0, count: (padded - samples.count) * 16)
        }
        shard.lossSum += lossSum
        shard.correct += correct
    }

    /// Step 3 for thread `shard`, after every thread's step 2: gradW[:, columns] += Σ_s δ_s x_sᵀ
    /// / 255 and Σ_s δ_s into its bias gradient, over all `count` samples of the block, in order.
    /// `startsStep` zeroes the sums first.
    private func backward(count: Int, startsStep: Bool, shard index: Int) {
        let shard = shards[index]
        if startsStep {
            shard.gradient.update(repeating: 0, count: SoftmaxKernel.classes * shard.width)
            shard.biasGradient.update(repeating: 0, count: 16)
        }
        var biasGradient = UnsafeRawPointer(shard.biasGradient).load(as: SIMD16<Float>.self)
        for slot in 0 ..< count { biasGradient += UnsafeRawPointer(deltas + slot * 16).load(as: SIMD16<Float>.self) }
        UnsafeMutableRawPointer(shard.biasGradient).storeBytes(of: biasGradient, as: SIMD16<Float>.self)
        guard shard.columns.count > 0 else { return }
        for group in Swift.stride(from: 0, to: (count + 3) / 4 * 4, by: 4) {
            SoftmaxKernel.addOuterProducts(deltas: scaledDeltas + group * 16, images: shard.images + group * shard.imageStride,
                                           imageStride: shard.imageStride, vectorCount: shard.columns.count,
                                           into: shard.gradient, rowStride: shard.width)
        }
    }

    /// Step 4 for thread `shard`: the momentum update of its columns of W and of its copy of b;
    /// records ‖W[:, columns]‖² before the update.
    private func applyUpdate(_ update: MomentumUpdate, batchSize: Int, shard index: Int) {
        let shard = shards[index]
        let scale = 1 / Float(batchSize)
        let (learningRate, momentum, l2) = (update.learningRate, update.momentum, update.l2)
        // θ ← θ + a·v_new − b·g: (1, 0) for momentum, (μ, η) for Nesterov.
        let (lookahead, gradientStep): (Float, Float) = update.nesterov ? (momentum, learningRate) : (1, 0)
        let gradients = UnsafeRawPointer(shard.gradient), parameters = UnsafeMutableRawPointer(shard.weights)
        let speeds = UnsafeMutableRawPointer(shard.velocity)
        var squaredNorm = SIMD16<Float>()
        // The slices are (10, width) contiguous: one run of 10 · columns.count vectors.
        for vector in 0 ..< SoftmaxKernel.classes * shard.columns.count {
            let offset = vector * 64
            let weight = parameters.load(fromByteOffset: offset, as: SIMD16<Float>.self)
            squaredNorm.addProduct(weight, weight)
            let g = gradients.load(fromByteOffset: offset, as: SIMD16<Float>.self) * scale + l2 * weight
            let speed = momentum * speeds.load(fromByteOffset: offset, as: SIMD16<Float>.self) - learningRate * g
            speeds.storeBytes(of: speed, toByteOffset: offset, as: SIMD16<Float>.self)
            parameters.storeBytes(of: weight + lookahead * speed - gradientStep * g, toByteOffset: offset, as: SIMD16<Float>.self)
        }
        shard.squaredNorm = Double(SoftmaxKernel.horizontalSum(squaredNorm))
        let biasGradient = UnsafeRawPointer(shard.biasGradient).load(as: SIMD16<Float>.self) * scale
        let biasSpeed = momentum * UnsafeRawPointer(shard.biasVelocity).load(as: SIMD16<Float>.self) - learningRate * biasGradient
        UnsafeMutableRawPointer(shard.biasVelocity).storeBytes(of: biasSpeed, as: SIMD16<Float>.self)
        let bias = UnsafeRawPointer(shard.bias).load(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(shard.bias).storeBytes(of: bias + lookahead * biasSpeed - gradientStep * biasGradient,
                                                       as: SIMD16<Float>.self)
    }
}

/// `count` Floats at a 64-byte boundary, zeroed. Deallocate with `deallocate()`.
func allocateAlignedFloats(count: Int) -> UnsafeMutablePointer<Float> {
    let floats = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.size, alignment: 64)
        .bindMemory(to: Float.self, capacity: count)
    floats.initialize(repeating: 0, count: count)
    return floats
}
