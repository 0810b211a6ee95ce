import Synchronization

/// The parameters of a softmax model (W: (10, 784), b: (10)) split into a fixed number of
/// column shards, which the threads of a `LockstepPool` share out, and the fused forward and
/// backward pass over blocks of samples.
///
/// Column shard c owns a contiguous range of columns of W (whole 16-float vectors, from
/// `columns(ofShard:of:)` with `columnShardCount` shards), and the same columns of the velocity
/// and of the gradient, each in a buffer of its own: (10, its columns) row-major. Each thread
/// owns a contiguous run of the shards (`contiguousPart`), whose work it does first. For each
/// block of samples:
/// 1. forward: for each of its shards, each thread computes the partial logits
///    Σ_{j in the shard's columns} W[k, j] · pixel[j] for every sample and class, reading the u8
///    pixels where they lie and skipping the vectors of 16 that are 0 in both images of a pair;
///    a barrier follows;
/// 2. each thread takes a share of the block's samples, in groups of 16, adds the partials of
///    all shards, in shard order, to the logits z = (Σ partials) / 255 + b, and computes the
///    cost and δ = ∂L/∂z (p − y for the softmax cross-entropy), class-major, into a shared
///    buffer, and each group's cost and correct count into a slot of its own; a barrier follows;
/// 3. backward: for each of its shards, each thread adds Σ_s δ_s x_sᵀ for all the block's
///    samples into the shard's columns of the gradient, and Σ_s δ_s (lane-wise over the groups
///    of 16, then across the lanes) into the shard's copy of the bias gradient;
/// 4. at the end of a step, each thread applies the momentum update to its shards, then goes on
///    to step 1 of the next block.
///
/// With several threads, steps 3, 4 and the next block's step 1 are tasks on a board per shard
/// (`TaskBoard`): the shard's backward pass and update, then its forward pass in four runs of
/// image pairs. A thread takes its own shards' tasks, then any left on the other boards, so a
/// thread whose core another process slows down (another guest's hardware thread on the same
/// core, say) is helped rather than waited for at the next barrier. (Measured, one thread made
/// twice as slow by spinning after each of its tasks as long as the task took: 22.2 ms per epoch
/// against 29.6 ms with a fixed shard per thread; with no thread slowed, 14.4 ms against 14.2.)
///
/// Results do not depend on the thread count. Every sum has a fixed shape: a partial logit is
/// one shard's lane-wise sum in column order, reduced by a fixed tree; the logit adds the
/// shards' partials in shard order; a gradient column sums the samples in order; the cost
/// statistics add the groups of 16 in order. The thread count, and which thread gets to a task
/// first, only decide which thread computes which shard, task or group, so one thread, two, and
/// any number of participants chosen from pass to pass (`participatingThreads`) give the same
/// bits. There are at most as many threads as column shards: a pool asked for more is capped.
///
/// Only the partial logits and δ (16 and 10 Floats per sample) cross between cores; W, its
/// velocity and the gradient stay in the cache of the core whose thread owns the shard, unless
/// a task moves. (Measured: with the slices cut from one shared (10, 784) array, even at
/// cache-line boundaries, two threads took 54 ms per epoch, no faster than one; with a buffer per
/// shard, 32 ms.) The bias is ten
/// numbers: every shard keeps its own copy and updates it with the same arithmetic.
///
/// A whole pass (an epoch, or one full-batch gradient) is one `LockstepPool.run`, and a block costs
/// two barriers. The partials and δ are double-buffered: a thread may go on to the next block
/// while another still reads this one's. (Measured: 1.5% faster per epoch than one `run` per
/// batch with the caller reporting each step between runs.)
package final class ColumnShardedSoftmax {
    /// W: (10, 784) row-major and b: (10), as the library's `SoftmaxModel` holds them.
    package typealias Parameters = (weights: [Float], bias: [Float])

    package static let weightCount = SoftmaxKernel.classes * SoftmaxKernel.features
    /// Column shards: the unit a thread owns, and the shape of every sum. Two shards
    /// (25 and 24 vectors of 16 columns) use both cores of the 2-core machines this is built
    /// for; each shard more would cost every image pair one more reduction of 20 accumulators in
    /// the forward pass, on any thread count, for threads those machines do not have.
    package static var columnShardCount: Int { 2 }
    /// The most samples in a block. A larger step (a full-batch gradient) runs as several blocks
    /// that add into the same gradient.
    static let maximumBlock = 256
    /// How many images ahead of the pair being multiplied the forward pass prefetches.
    /// (Measured, median of paired runs, with the prefetches in bursts: 12 and 24 alike, 48 and
    /// 96 5–9% slower, prefetching the whole next block while computing this one 3% slower, and
    /// no prefetch 29% slower; spread through the kernel: 12 and 24 alike, 48 4% slower.)
    static var prefetchLead: Int { 24 }
    /// Sample slots per block buffer: room for the padding of an odd pair and of a group of 16.
    private static var blockSlots: Int { SoftmaxKernel.blockStride }

    /// What one step (a batch, or the whole sample list) gave.
    package struct StepResult {
        /// Samples in the step.
        package let count: Int
        /// Σ L_n (−log p_y for the softmax cross-entropy) over the step's samples, at the weights
        /// the step saw.
        package let lossSum: Double
        /// How many argmax z equal the label.
        package let correct: Int
        /// ‖W‖² at the weights the step saw (only when the step was followed by an update).
        package let squaredNorm: Double
    }

    /// The momentum update after each step: g = gradient / B + λW (no λ on the bias),
    /// v ← μv − ηg, then θ ← θ + v, or with Nesterov's momentum θ ← θ + μv − ηg (the gradient
    /// step taken again from where momentum is heading).
    package struct MomentumUpdate {
        let learningRate: Float
        let momentum: Float
        let nesterov: Bool
        let l2: Float

        package init(learningRate: Float, momentum: Float, nesterov: Bool, l2: Float) {
            self.learningRate = learningRate
            self.momentum = momentum
            self.nesterov = nesterov
            self.l2 = l2
        }
    }

    /// One column shard's parameters and scratch space.
    private final class Shard {
        /// The vectors of 16 columns this shard owns, within 0..<49.
        let columns: Range<Int>
        /// (10, width) row-major each, width = columns.count · 16, 64-byte aligned: this shard's
        /// columns of W, of their velocity, and of the step's Σ δ pixelsᵀ / 255.
        let weights: UnsafeMutablePointer<Float>
        let velocity: UnsafeMutablePointer<Float>
        let gradient: UnsafeMutablePointer<Float>
        /// (16) each: this shard's copy of b, of its velocity, and Σ δ over the step.
        let bias: UnsafeMutablePointer<Float>
        let biasVelocity: UnsafeMutablePointer<Float>
        let biasGradient: UnsafeMutablePointer<Float>
        /// ‖W[:, columns]‖² of its current weights: set with the weights and by each update.
        var weightsSquaredNorm = 0.0

        init(columns: Range<Int>) {
            self.columns = columns
            let slice = SoftmaxKernel.classes * max(columns.count, 1) * 16
            weights = allocateAlignedFloats(count: slice)
            velocity = allocateAlignedFloats(count: slice)
            gradient = allocateAlignedFloats(count: slice)
            bias = allocateAlignedFloats(count: 16)
            biasVelocity = allocateAlignedFloats(count: 16)
            biasGradient = allocateAlignedFloats(count: 16)
        }

        deinit {
            weights.deallocate()
            velocity.deallocate()
            gradient.deallocate()
            bias.deallocate()
            biasVelocity.deallocate()
            biasGradient.deallocate()
        }

        /// Floats in a row of its slices.
        var width: Int { columns.count * 16 }

        /// Which of its vectors are not all 0 in an image whose mask over all 49 is `mask`
        /// (bit v of the result for its vector columns.lowerBound + v).
        func ownVectors(of mask: UInt64) -> UInt64 {
            (mask >> UInt64(columns.lowerBound)) & ((1 << UInt64(columns.count)) - 1)
        }
    }

    /// One column shard's work in the third phase of a block, as tasks the threads claim in order:
    /// task 0 is its backward pass and update, tasks 1…`forwardChunks` the next block's forward
    /// pass, in runs of image pairs. The shard's owner takes them one by one, and a thread that has
    /// run out of work of its own takes them too, so that a thread whose core another process slows
    /// down is helped rather than waited for. The forward chunks wait for the update. Every task
    /// computes the same sums in the same order whoever runs it.
    private final class TaskBoard {
        /// Tasks handed out.
        let claimed = Atomic<Int>(0)
        /// Set once the backward pass and update (task 0) are done.
        let updated = Atomic<Bool>(false)

        func reset() {
            claimed.store(0, ordering: .relaxed)
            updated.store(false, ordering: .relaxed)
        }
    }

    /// Runs of image pairs per shard in the forward pass: the units of work that one thread can
    /// take over from another (`TaskBoard`).
    static var forwardChunks: Int { 4 }

    /// Training images with, for each, which of its 49 vectors of 16 pixels are not all 0 (bit v
    /// of `nonzeroVectors[n]`, from `SoftmaxKernel.nonzeroVectors`). Found once for a run, in one
    /// sequential sweep, rather than in every epoch with the image's cache misses.
    package struct MaskedImages {
        /// (count, 784) u8 row-major, and (count) labels in 0..<10.
        let pixels: [UInt8]
        let labels: [UInt8]
        let nonzeroVectors: [UInt64]

        /// pixels: (count, 784) u8; labels: (count), each in 0..<10. The caller has checked both
        /// shapes (this module runs without bounds checks).
        package init(pixels: [UInt8], labels: [UInt8]) {
            self.pixels = pixels
            self.labels = labels
            nonzeroVectors = pixels.withUnsafeBufferPointer { pixels in
                (0 ..< labels.count).map {
                    SoftmaxKernel.nonzeroVectors(
                        pixels: pixels.baseAddress! + $0 * SoftmaxKernel.features, count: SoftmaxKernel.features)
                }
            }
        }
    }

    /// What a step has counted so far: Σ L_n and the correct count over its samples, in group
    /// order, and ‖W‖² at the step's weights.
    private struct StepStatistics {
        var lossSum = 0.0
        var correct = 0
        var squaredNorm = 0.0
    }

    private let pool: LockstepPool
    private let shards: [Shard]
    /// (2, columnShardCount): each shard's tasks, for blocks of even and odd index.
    private let boards: [TaskBoard]
    /// (threads, 8): per thread, one 64-byte line each, the 16-lane multiply-adds its kernels have
    /// executed (at 0) and the tasks it has taken over from another thread's shards (at 1).
    private let threadCounters: UnsafeMutablePointer<Int>
    /// How many of the pool's threads the next pass uses: 1 ≤ n ≤ `maximumParticipants`. The
    /// caller may change it between passes (to step aside when other processes keep cores busy);
    /// the results are the same for every value.
    package var participatingThreads: Int {
        didSet {
            precondition(
                participatingThreads >= 1 && participatingThreads <= maximumParticipants, "participants out of range")
        }
    }
    /// The most threads a pass can use: the pool's, at most one per column shard.
    package var maximumParticipants: Int { pool.threadCount }
    /// (2, columnShardCount, blockSlots, 16): each shard's partial logits, for even and odd blocks.
    private let partials: UnsafeMutablePointer<Float>
    /// (2, 10, blockSlots) each, shared, for even and odd blocks, class-major: the block's
    /// δ = ∂L/∂z, and δ/255 flushed below Float's smallest normal for the weights (padding slots
    /// 0). Each thread writes its share of the samples, then all read all of them after a barrier.
    private let deltas: UnsafeMutablePointer<Float>
    private let scaledDeltas: UnsafeMutablePointer<Float>
    /// The block after whose barrier every thread leaves the pass, once `afterStep` has thrown.
    private let stopAfterBlock = Atomic<Int>(-1)
    /// (maximumBlock / 16) each: the current block's Σ L_n and correct count per group of 16
    /// samples, written by whichever thread took the group, added up in group order by thread 0.
    private let groupLossSums: UnsafeMutablePointer<Double>
    private let groupCorrect: UnsafeMutablePointer<Int>
    /// (threads, 16, 16): each thread's logits of 16 samples, one row each, on their way to
    /// class-major.
    private let logitRows: UnsafeMutablePointer<Float>

    /// The cost whose gradient the backward pass forms.
    let lossFunction: SoftmaxKernel.Cost

    /// Up to `threadCount` ≥ 1 threads (at most one per column shard) over zero parameters and
    /// zero velocity, for the cost `lossFunction`.
    package init(threadCount: Int, lossFunction: SoftmaxKernel.Cost) {
        self.lossFunction = lossFunction
        // More threads than shards would have nothing to do.
        let threads = min(threadCount, Self.columnShardCount)
        pool = LockstepPool(threadCount: threads)
        participatingThreads = threads
        shards = (0 ..< Self.columnShardCount).map {
            Shard(columns: Self.columns(ofShard: $0, of: Self.columnShardCount))
        }
        boards = (0 ..< 2 * Self.columnShardCount).map { _ in TaskBoard() }
        threadCounters = .allocate(capacity: threads * 8)
        threadCounters.initialize(repeating: 0, count: threads * 8)
        partials = allocateAlignedFloats(count: 2 * Self.columnShardCount * Self.blockSlots * 16)
        let groups = Self.blockSlots / 16
        groupLossSums = .allocate(capacity: groups)
        groupLossSums.initialize(repeating: 0, count: groups)
        groupCorrect = .allocate(capacity: groups)
        groupCorrect.initialize(repeating: 0, count: groups)
        logitRows = allocateAlignedFloats(count: threads * 16 * 16)
        deltas = allocateAlignedFloats(count: 2 * SoftmaxKernel.classes * Self.blockSlots)
        scaledDeltas = allocateAlignedFloats(count: 2 * SoftmaxKernel.classes * Self.blockSlots)
    }

    deinit {
        threadCounters.deallocate()
        partials.deallocate()
        deltas.deallocate()
        scaledDeltas.deallocate()
        groupLossSums.deallocate()
        groupCorrect.deallocate()
        logitRows.deallocate()
    }

    /// The vectors of 16 columns that column shard `shard` of `shardCount` owns: contiguous, in order,
    /// sizes that differ by at most one, the larger ones first. On digits the first rows hold
    /// less ink than the last, so with all-0 vectors skipped the first 24 of the 49 vectors cost
    /// 13% fewer multiply-adds than the last 25 on MNIST's training set, and the first 25 and the
    /// last 24 are about 5% apart (Fashion-MNIST: 4%, against 5% the other way round). Counted
    /// from the data; the epoch time of the two splits did not differ beyond this machine's noise.
    static func columns(ofShard shard: Int, of shardCount: Int) -> Range<Int> {
        contiguousPart(shard, of: shardCount, splitting: SoftmaxKernel.vectorsPerRow)
    }

    /// The current parameters. Setting them (W: 7,840 values, b: 10) keeps the velocity.
    package var parameters: Parameters {
        get { gathered(\.weights, bias: \.bias) }
        set {
            scatter(newValue, into: \.weights, bias: \.bias)
            for shard in shards { shard.weightsSquaredNorm = Self.squaredNorm(of: shard) }
        }
    }

    /// The momentum velocity of W and b, in the parameters' shapes.
    package var velocity: Parameters {
        get { gathered(\.velocity, bias: \.biasVelocity) }
        set { scatter(newValue, into: \.velocity, bias: \.biasVelocity) }
    }

    /// The gradient sums of the last step: Σ_n (p_n − y_n) x_nᵀ (10, 784) and Σ_n (p_n − y_n) (10),
    /// not divided by the step's size.
    package var gradientSum: Parameters {
        gathered(\.gradient, bias: \.biasGradient)
    }

    /// The (10, 784) matrix whose column slices are every shard's `slice` buffer, and the first
    /// shard's 10 values of `bias`.
    private func gathered(
        _ slice: KeyPath<Shard, UnsafeMutablePointer<Float>>, bias: KeyPath<Shard, UnsafeMutablePointer<Float>>
    )
        -> Parameters
    {
        var matrix = [Float](repeating: 0, count: Self.weightCount)
        for shard in shards where shard.width > 0 {
            for k in 0 ..< SoftmaxKernel.classes {
                for j in 0 ..< shard.width {
                    matrix[k * SoftmaxKernel.features + shard.columns.lowerBound * 16 + j] =
                        shard[keyPath: slice][k * shard.width + j]
                }
            }
        }
        return (matrix, Array(UnsafeBufferPointer(start: shards[0][keyPath: bias], count: SoftmaxKernel.classes)))
    }

    /// Copies the column slices of `model`'s W into every shard's `slice` buffer, and its b into
    /// every shard's `bias` buffer.
    private func scatter(
        _ model: Parameters, into slice: KeyPath<Shard, UnsafeMutablePointer<Float>>,
        bias: KeyPath<Shard, UnsafeMutablePointer<Float>>
    ) {
        for shard in shards {
            for k in 0 ..< SoftmaxKernel.classes {
                for j in 0 ..< shard.width {
                    shard[keyPath: slice][k * shard.width + j] =
                        model.weights[k * SoftmaxKernel.features + shard.columns.lowerBound * 16 + j]
                }
            }
            model.bias.withUnsafeBufferPointer {
                shard[keyPath: bias].update(from: $0.baseAddress!, count: SoftmaxKernel.classes)
            }
        }
    }

    /// What the passes have done and waited for, counted since this was made; the difference of
    /// two readings is what the passes between them did.
    package struct Counters: Sendable {
        /// The floating-point operations the forward and backward kernels executed: 2 per
        /// multiply-add lane, over the vectors of 16 pixels not skipped as all 0 (a dense pass
        /// would be 2 · 2 · 784 · 10 = 31,360 per sample).
        package let executedFLOP: Int
        /// Nanoseconds the threads together spent waiting at barriers and for each other's
        /// tasks: the cost of running them in lockstep (0 on one thread).
        package let barrierWaitNanoseconds: Int
        /// The tasks (`TaskBoard`) that threads ran for a column shard not their own: how much
        /// work moved off a thread that fell behind.
        package let tasksTakenOver: Int

        /// The counts between the reading `earlier` and this one.
        package static func - (later: Counters, earlier: Counters) -> Counters {
            Counters(
                executedFLOP: later.executedFLOP - earlier.executedFLOP,
                barrierWaitNanoseconds: later.barrierWaitNanoseconds - earlier.barrierWaitNanoseconds,
                tasksTakenOver: later.tasksTakenOver - earlier.tasksTakenOver)
        }
    }

    /// The counters now. Read them between passes.
    package var counters: Counters {
        let threads = 0 ..< pool.threadCount
        return Counters(
            executedFLOP: threads.reduce(0) { $0 + threadCounters[$1 * 8] } * 16 * 2,
            barrierWaitNanoseconds: pool.barrierWaitNanoseconds,
            tasksTakenOver: threads.reduce(0) { $0 + threadCounters[$1 * 8 + 1] })
    }

    /// True when every logit z = W x + b is finite for every x in [0, 1]^784: for each class k,
    /// Σ_j |W[k, j]| + |b_k| is finite. (Finite weights alone are not enough: weights near
    /// Float's largest value overflow the dot product.)
    package var logitsAreFinite: Bool {
        (0 ..< SoftmaxKernel.classes).allSatisfy { k in
            shards.reduce(abs(shards[0].bias[k])) { sum, shard in
                UnsafeBufferPointer(start: shard.weights + k * shard.width, count: shard.width).reduce(sum) {
                    $0 + abs($1)
                }
            }.isFinite
        }
    }

    /// The fused forward and backward pass over `samples` of `data`, in steps of `stepSize`
    /// samples (the last may be shorter). After each step, `update` (when given) changes the
    /// parameters and `afterStep` sees the step's result; an error it throws ends the pass.
    /// images: (N, 784) u8 with labels and masks; samples: indices into N.
    ///
    /// The whole pass is one `LockstepPool.run` on `participatingThreads` threads: they go through
    /// the blocks together, and a block costs two barriers (partial logits complete, δ complete).
    /// Thread 0 adds up the block's group statistics right after the second barrier, and calls
    /// `afterStep` after a step's last block, while the other threads go on; the next block's
    /// statistics are written only after its first barrier, which thread 0 has not yet reached.
    /// An error `afterStep` throws stops every thread after the next block's δ barrier, so all
    /// leave together, with the step's update applied, as without the error.
    package func pass<Failure: Error>(
        over samples: UnsafeBufferPointer<Int32>, of images: MaskedImages, stepSize: Int,
        update: MomentumUpdate?, afterStep: (StepResult) throws(Failure) -> Void
    ) throws(Failure) {
        precondition(stepSize > 0 && !samples.isEmpty, "a pass needs samples")
        // Blocks of at most `maximumBlock` samples, as even as possible within each step, the
        // larger ones last: block b of n starts at ⌊count · b / n⌋. (Not `contiguousPart`'s
        // larger-first split: a block's bounds are part of the sums' shape, since the backward
        // pass adds its samples four at a time and its δ sixteen at a time from the block's start.)
        var blocks: [(samples: Range<Int>, step: Int, stepCount: Int, startsStep: Bool, endsStep: Bool)] = []
        for (step, stepStart) in stride(from: 0, to: samples.count, by: stepSize).enumerated() {
            let count = min(stepSize, samples.count - stepStart)
            let blockCount = (count + Self.maximumBlock - 1) / Self.maximumBlock
            for block in 0 ..< blockCount {
                blocks.append(
                    (
                        stepStart + count * block / blockCount ..< stepStart + count * (block + 1) / blockCount, step,
                        count,
                        block == 0, block == blockCount - 1
                    ))
            }
        }
        var failure: Failure?
        stopAfterBlock.store(-1, ordering: .relaxed)
        let threads = participatingThreads
        images.pixels.withUnsafeBufferPointer { pixels in
            images.labels.withUnsafeBufferPointer { labels in
                images.nonzeroVectors.withUnsafeBufferPointer { masks in
                    let pixels = pixels.baseAddress!, labels = labels.baseAddress!, masks = masks.baseAddress!
                    // The samples of block `index`, if there is one.
                    func blockSamples(_ index: Int) -> UnsafeBufferPointer<Int32>? {
                        index < blocks.count ? UnsafeBufferPointer(rebasing: samples[blocks[index].samples]) : nil
                    }
                    // Thread 0's running sums over the current step.
                    var statistics = StepStatistics()
                    for board in boards { board.reset() }
                    pool.run(participants: threads) { thread in
                        let ownShards = contiguousPart(thread, of: threads, splitting: Self.columnShardCount)
                        let first = blockSamples(0)!
                        forward(
                            samples: first, prefetching: blockSamples(1), pixels: pixels, masks: masks, parity: 0,
                            shards: ownShards, pairs: 0 ..< (first.count + 1) / 2, thread: thread)
                        for (index, block) in blocks.enumerated() {
                            let current = blockSamples(index)!
                            // Every shard's partial logits of the block are written (and, at a step's
                            // start, every shard's ‖W‖² of the step's weights).
                            pool.barrier(thread: thread)
                            if thread == 0 && block.startsStep {
                                statistics = StepStatistics(
                                    squaredNorm: shards.reduce(0.0) { $0 + $1.weightsSquaredNorm })
                            }
                            // The boards of the next block: every claim on them (the previous block's)
                            // was made before this barrier, and the next is made after the next one.
                            if thread == 0 {
                                for shard in 0 ..< Self.columnShardCount {
                                    boards[((index + 1) & 1) * Self.columnShardCount + shard].reset()
                                }
                            }
                            logitGradients(
                                samples: current, labels: labels, parity: index & 1, thread: thread, of: threads)
                            // Every group's δ and statistics are written.
                            pool.barrier(thread: thread)
                            // Set (by thread 0, before this barrier) only when a step's `afterStep` threw.
                            if stopAfterBlock.load(ordering: .relaxed) == index { return }
                            if thread == 0 {
                                for group in 0 ..< (current.count + 15) / 16 {
                                    statistics.lossSum += groupLossSums[group]
                                    statistics.correct += groupCorrect[group]
                                }
                                if block.endsStep, failure == nil {
                                    do throws(Failure) {
                                        try afterStep(
                                            StepResult(
                                                count: block.stepCount, lossSum: statistics.lossSum,
                                                correct: statistics.correct,
                                                squaredNorm: update != nil ? statistics.squaredNorm : 0))
                                    } catch {
                                        failure = error
                                        stopAfterBlock.store(index + 1, ordering: .relaxed)
                                    }
                                }
                            }
                            // Backward, update and the next block's forward.
                            let next = blockSamples(index + 1)
                            let pairCount = next.map { ($0.count + 1) / 2 } ?? 0
                            guard threads > 1 else {
                                // One thread has every shard: it goes through the next block's image pairs
                                // once, each pair over all shards, rather than once per shard.
                                for shard in 0 ..< Self.columnShardCount {
                                    backward(
                                        samples: current, pixels: pixels, masks: masks, parity: index & 1,
                                        startsStep: block.startsStep, shard: shard, thread: thread)
                                    if block.endsStep, let update {
                                        applyUpdate(update, batchSize: block.stepCount, shard: shard)
                                    }
                                }
                                if let next {
                                    forward(
                                        samples: next, prefetching: blockSamples(index + 2), pixels: pixels,
                                        masks: masks,
                                        parity: (index + 1) & 1, shards: 0 ..< Self.columnShardCount,
                                        pairs: 0 ..< pairCount,
                                        thread: thread)
                                }
                                continue
                            }
                            // Several threads: each takes the tasks of its own shards, then those left on
                            // the others' boards (own shards first: they start at ownShards.lowerBound).
                            let taskCount = 1 + (next != nil ? Self.forwardChunks : 0)
                            for offset in 0 ..< Self.columnShardCount {
                                let shard = (ownShards.lowerBound + offset) % Self.columnShardCount
                                let board = boards[(index & 1) * Self.columnShardCount + shard]
                                while true {
                                    let task = board.claimed.wrappingAdd(1, ordering: .relaxed).oldValue
                                    guard task < taskCount else { break }
                                    if !ownShards.contains(shard) { threadCounters[thread * 8 + 1] += 1 }
                                    if task == 0 {
                                        backward(
                                            samples: current, pixels: pixels, masks: masks, parity: index & 1,
                                            startsStep: block.startsStep, shard: shard, thread: thread)
                                        if block.endsStep, let update {
                                            applyUpdate(update, batchSize: block.stepCount, shard: shard)
                                        }
                                        board.updated.store(true, ordering: .sequentiallyConsistent)
                                        pool.announceChange()
                                    } else if let next {
                                        // The next block's partial logits need the updated W.
                                        pool.wait(thread: thread) {
                                            board.updated.load(ordering: .sequentiallyConsistent)
                                        }
                                        let chunk = contiguousPart(
                                            task - 1, of: Self.forwardChunks, splitting: pairCount)
                                        forward(
                                            samples: next, prefetching: blockSamples(index + 2), pixels: pixels,
                                            masks: masks,
                                            parity: (index + 1) & 1, shards: shard ..< shard + 1, pairs: chunk,
                                            thread: thread)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
    }

    /// (blockSlots, 16): column shard `shard`'s partial logits for blocks of `parity`.
    private func partialLogits(parity: Int, shard: Int) -> UnsafeMutablePointer<Float> {
        partials + (parity * Self.columnShardCount + shard) * Self.blockSlots * 16
    }

    /// Step 1 for the column shards `shardRange`, on the image pairs `pairs` of the block (pair p:
    /// samples 2p and 2p + 1), pair by pair: the partial logits Σ_{j in a shard's columns} W[k, j] ·
    /// pixel[j] (no 1/255, no bias), over the vectors where either image is not all 0 (the shard's
    /// bits of `masks`). Meanwhile, it prefetches the shard's columns of the images `prefetchLead` places
    /// further on, in this block and then the next (`next`): the samples are in shuffled order,
    /// so each image is a cache miss that the hardware cannot predict, and the kernel would
    /// otherwise wait on memory.
    /// samples, next: indices into pixels (N, 784) u8 and masks (N).
    private func forward(
        samples: UnsafeBufferPointer<Int32>, prefetching next: UnsafeBufferPointer<Int32>?,
        pixels: UnsafePointer<UInt8>, masks: UnsafePointer<UInt64>, parity: Int, shards shardRange: Range<Int>,
        pairs: Range<Int>, thread: Int
    ) {
        let next = next ?? UnsafeBufferPointer(start: nil, count: 0)
        // The sample at `position` in this block followed by the next; past both, the first of
        // this block (already in cache), so that the kernel always has an image to prefetch.
        func sample(at position: Int) -> Int {
            Int(
                position < samples.count
                    ? samples[position]
                    : position - samples.count < next.count ? next[position - samples.count] : samples[0])
        }
        for pair in Swift.stride(from: 2 * pairs.lowerBound, to: min(2 * pairs.upperBound, samples.count), by: 2) {
            // An odd last image is paired with itself; the second partials are never read.
            let hasSecond = pair + 1 < samples.count
            let first = Int(samples[pair]), second = hasSecond ? Int(samples[pair + 1]) : first
            let pairMask = masks[first] | masks[second]
            // The two images `prefetchLead` places on: their masks now, and their columns one line
            // per vector inside the kernel. (The 480 KB of masks do not stay in cache while 47 MB
            // of pixels stream through.)
            let ahead0 = sample(at: pair + Self.prefetchLead), ahead1 = sample(at: pair + Self.prefetchLead + 1)
            SoftmaxKernel.prefetch(masks + ahead0)
            SoftmaxKernel.prefetch(masks + ahead1)
            for index in shardRange {
                let shard = shards[index]
                let partial = partialLogits(parity: parity, shard: index)
                let firstColumn = shard.columns.lowerBound * 16
                let vectors = shard.ownVectors(of: pairMask)
                threadCounters[thread * 8] += vectors.nonzeroBitCount * 2 * SoftmaxKernel.classes
                SoftmaxKernel.dotProducts(
                    weights: shard.weights, rowStride: shard.width, vectors: vectors,
                    first: pixels + first * SoftmaxKernel.features + firstColumn,
                    second: pixels + second * SoftmaxKernel.features + firstColumn,
                    into: partial + pair * 16, partial + (pair + 1) * 16,
                    prefetching: pixels + ahead0 * SoftmaxKernel.features + firstColumn,
                    pixels + ahead1 * SoftmaxKernel.features + firstColumn, byteCount: shard.width)
            }
        }
    }

    /// Step 2 for thread `thread` of `threadCount`, on its share of the block's groups of 16
    /// samples: the logits from every shard's partials, then the cost and δ = ∂L/∂z (p − y for
    /// the softmax cross-entropy) into the shared `deltas` and δ/255 into `scaledDeltas`,
    /// class-major, and each group's cost and correct count into its slot of `groupLossSums` and
    /// `groupCorrect`. The slots of the last group past the block get δ = 0.
    /// samples: the block's indices into labels (N) u8.
    private func logitGradients(
        samples: UnsafeBufferPointer<Int32>, labels: UnsafePointer<UInt8>, parity: Int,
        thread: Int, of threadCount: Int
    ) {
        let stride = Self.blockSlots
        let deltas = deltas + parity * SoftmaxKernel.classes * stride
        let scaledDeltas = scaledDeltas + parity * SoftmaxKernel.classes * stride
        // Every shard holds the same b.
        let bias = UnsafeRawPointer(shards[0].bias).load(as: SIMD16<Float>.self)
        let rows = logitRows + thread * 16 * 16
        // Thread 0, which also resets the boards and adds up the statistics, takes the last part:
        // the smaller one when the groups do not split evenly.
        for group in contiguousPart(threadCount - 1 - thread, of: threadCount, splitting: (samples.count + 15) / 16) {
            let first = group * 16, count = min(16, samples.count - first)
            // z = (Σ partials, in shard order) / 255 + b, one row per sample (0 past the block).
            var labelLanes = SIMD16<Float>(repeating: -1)
            for lane in 0 ..< 16 {
                var sum = SIMD16<Float>()
                if lane < count {
                    let slot = first + lane
                    for shard in 0 ..< Self.columnShardCount {
                        sum += UnsafeRawPointer(partialLogits(parity: parity, shard: shard) + slot * 16).load(
                            as: SIMD16<Float>.self)
                    }
                    sum = sum * SoftmaxKernel.pixelScale + bias
                    labelLanes[lane] = Float(labels[Int(samples[slot])])
                }
                UnsafeMutableRawPointer(rows + lane * 16).storeBytes(of: sum, as: SIMD16<Float>.self)
            }
            // Class k's row of the block holds z_k of the 16 samples.
            SoftmaxKernel.transpose(logitRows: rows, into: deltas + first)
            let (losses, predicted) = SoftmaxKernel.logitGradients(
                lossFunction, logits: deltas + first, labels: labelLanes)
            groupLossSums[group] = Double(SoftmaxKernel.horizontalSum(losses))
            groupCorrect[group] = Int(
                SoftmaxKernel.horizontalSum(SIMD16<Float>().replacing(with: 1, where: predicted .== labelLanes)))
            // δ/255 for the weights: x = pixel/255 is folded in here, once per class.
            for k in 0 ..< SoftmaxKernel.classes {
                let delta = UnsafeRawPointer(deltas + k * stride + first).load(as: SIMD16<Float>.self)
                UnsafeMutableRawPointer(scaledDeltas + k * stride + first).storeBytes(
                    of: SoftmaxKernel.flushedToZeroBelowNormal(delta * SoftmaxKernel.pixelScale), as: SIMD16<Float>.self
                )
            }
        }
    }

    /// ‖W[:, columns]‖² of a column shard, summed in vectors of 16 then across lanes
    /// (`applyUpdate` sums the updated weights in the same order).
    private static func squaredNorm(of shard: Shard) -> Double {
        let parameters = UnsafeRawPointer(shard.weights)
        var sum = SIMD16<Float>()
        // The slice is (10, width) contiguous: one run of 10 · columns.count vectors.
        for vector in 0 ..< SoftmaxKernel.classes * shard.columns.count {
            let weight = parameters.load(fromByteOffset: vector * 64, as: SIMD16<Float>.self)
            sum.addProduct(weight, weight)
        }
        return Double(SoftmaxKernel.horizontalSum(sum))
    }

    /// Step 3 for column shard `shard`, after every thread's step 2: gradW[:, columns] += Σ_s δ_s
    /// x_sᵀ / 255 and Σ_s δ_s into its bias gradient, over all samples of the block (of `parity`), in
    /// order, four images at a time. `startsStep` zeroes the sums first.
    /// samples: the block's indices into pixels (N, 784) u8 and masks (N).
    private func backward(
        samples: UnsafeBufferPointer<Int32>, pixels: UnsafePointer<UInt8>, masks: UnsafePointer<UInt64>,
        parity: Int, startsStep: Bool, shard index: Int, thread: Int
    ) {
        let shard = shards[index]
        let count = samples.count
        let deltas = deltas + parity * SoftmaxKernel.classes * Self.blockSlots
        let scaledDeltas = scaledDeltas + parity * SoftmaxKernel.classes * Self.blockSlots
        if startsStep {
            shard.gradient.update(repeating: 0, count: SoftmaxKernel.classes * shard.width)
            shard.biasGradient.update(repeating: 0, count: 16)
        }
        // Σ_s δ_s per class: lane-wise over the groups of 16 (0 past the block), then across lanes.
        for k in 0 ..< SoftmaxKernel.classes {
            var sum = SIMD16<Float>()
            for first in Swift.stride(from: 0, to: count, by: 16) {
                sum += UnsafeRawPointer(deltas + k * Self.blockSlots + first).load(as: SIMD16<Float>.self)
            }
            shard.biasGradient[k] += SoftmaxKernel.horizontalSum(sum)
        }
        let firstColumn = shard.columns.lowerBound * 16
        // Its columns of sample `slot`'s image; a padding slot past the block (δ = 0) reads the
        // last image, which adds exactly 0.
        func image(_ slot: Int) -> UnsafePointer<UInt8> {
            pixels + Int(samples[min(slot, count - 1)]) * SoftmaxKernel.features + firstColumn
        }
        for group in Swift.stride(from: 0, to: (count + 3) / 4 * 4, by: 4) {
            // The padding slots need no vectors of their own.
            let vectors = (group ..< min(group + 4, count)).reduce(UInt64(0)) {
                $0 | shard.ownVectors(of: masks[Int(samples[$1])])
            }
            threadCounters[thread * 8] += vectors.nonzeroBitCount * 4 * SoftmaxKernel.classes
            SoftmaxKernel.addOuterProducts(
                deltas: scaledDeltas + group, images: image(group), image(group + 1), image(group + 2),
                image(group + 3), vectors: vectors, into: shard.gradient, rowStride: shard.width)
        }
    }

    /// Step 4 for column shard `shard`: the momentum update of its columns of W and of its copy of b;
    /// records ‖W[:, columns]‖² of the new weights for the next step's cost.
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
            let g = gradients.load(fromByteOffset: offset, as: SIMD16<Float>.self) * scale + l2 * weight
            let speed = momentum * speeds.load(fromByteOffset: offset, as: SIMD16<Float>.self) - learningRate * g
            speeds.storeBytes(of: speed, toByteOffset: offset, as: SIMD16<Float>.self)
            let updated = weight + lookahead * speed - gradientStep * g
            parameters.storeBytes(of: updated, toByteOffset: offset, as: SIMD16<Float>.self)
            squaredNorm.addProduct(updated, updated)
        }
        shard.weightsSquaredNorm = Double(SoftmaxKernel.horizontalSum(squaredNorm))
        let biasGradient = UnsafeRawPointer(shard.biasGradient).load(as: SIMD16<Float>.self) * scale
        let biasSpeed =
            momentum * UnsafeRawPointer(shard.biasVelocity).load(as: SIMD16<Float>.self) - learningRate * biasGradient
        UnsafeMutableRawPointer(shard.biasVelocity).storeBytes(of: biasSpeed, as: SIMD16<Float>.self)
        let bias = UnsafeRawPointer(shard.bias).load(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(shard.bias).storeBytes(
            of: bias + lookahead * biasSpeed - gradientStep * biasGradient,
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
