import FoundationEssentials
import MNISTSoftmax
import Synchronization

/// One training job of the Train view: one cost, or the three costs raced (the same seed, so the
/// same batches in the same order), each run on a low-priority thread of its own
/// (`BackgroundThread`) through the library's `SoftmaxTrainer`, one kernel thread each.
///
/// The runs never wait for a browser. A `TrainingObserver` looks at the weights every 1/20 of an
/// epoch and records a curve point (test accuracy, |∂L/∂z_y| on the misclassified probe images),
/// and the templates with it at most every frame interval and at each epoch's end. A pump task (`pump`) turns what changed into one `frame` event per
/// `TrainingLimits.frameInterval` for every stream, so frames go out at a steady rate whatever the
/// training speed, and a stream that reads slowly loses old frames, not the trainer's time.
/// In the slowed-down mode each run sleeps between batches to keep its pace, and every batch is
/// a point.
final class TrainingJob: @unchecked Sendable {
    enum Kind: String, Sendable {
        case train, race
    }

    let id: Int
    let kind: Kind
    let plan: TrainingPlan
    private let limits: TrainingLimits
    private let sets: TrainingDataSource.Sets
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    /// Curve points per epoch and run at full speed. Each costs a pass over the test set and the
    /// probe images, about as long as training 1/20 of an epoch, so a watched race trains at about
    /// half the speed of `mnist-softmax train` on one thread.
    static let pointsPerEpoch = 20
    /// Training images on which |∂L/∂z_y| is measured: the first of the training set.
    static let probeCount = 1_000

    /// One run's state, shared by its thread, the pump and the streams (under `lock`).
    private struct Run {
        let cost: LossFunction
        var batchesPerEpoch = 0
        var latest: TrainingEvent.Point?
        /// Points since the last frame.
        var fresh: [TrainingEvent.Point] = []
        /// Every point, thinned to `TrainingLimits.retainedPoints`, for streams that join late.
        var retained: [TrainingEvent.Point] = []
        var templates: (base64: String, limit: Float)?
        var templatesChanged = false
        var result: TrainingEvent.RunResult?
        var model: StoredModel?
    }

    /// Guards the variables below, which stay fields of the class (so it holds no value).
    private let lock = Mutex(())
    private var runs: [Run]
    private var streams: [Int: AsyncStream<Data>.Continuation] = [:]
    private var nextStream = 0
    /// Since when no stream has watched, or nil while one does.
    private var unwatchedSince: ContinuousClock.Instant?
    private var stopReason: String?
    /// The final event, once sent.
    private var ending: TrainingEvent?

    init(id: Int, kind: Kind, plan: TrainingPlan, sets: TrainingDataSource.Sets, limits: TrainingLimits) {
        self.id = id
        self.kind = kind
        self.plan = plan
        self.sets = sets
        self.limits = limits
        started = clock.now
        unwatchedSince = started
        runs = plan.costs.map { Run(cost: $0) }
    }

    /// Starts every run's thread and the pump; returns at once. A run whose thread cannot be
    /// created ends at once as failed, and the job's final event says so.
    func start() {
        for index in runs.indices where !BackgroundThread.start({ self.train(run: index) }) {
            let result = unfinished(
                plan.costs[index], outcome: .failed, epochsRun: 0, message: BackgroundThread.Unavailable().description)
            lock.withLock { _ in runs[index].result = result }
        }
        Task { await self.pump() }
    }

    /// True until the final event is sent.
    var isRunning: Bool { lock.withLock { _ in ending == nil } }

    /// Asks every run to stop before its next batch; the job ends with a `stopped` event.
    func stop(because reason: String) {
        lock.withLock { _ in if stopReason == nil { stopReason = reason } }
    }

    private var shouldStop: Bool { lock.withLock { _ in stopReason != nil } }

    /// What the job is, for a refusal that names it: "race of softmax-ce, sigmoid-bce and mse
    /// (job 3), epoch 2 of 10".
    var summary: String {
        let position = lock.withLock { _ in runs.compactMap(\.latest).map(\.epoch).min() }
        let costs = plan.costs.map(\.rawValue)
        let what: String
        if kind == .race {
            what = "race of \(costs.dropLast().joined(separator: ", ")) and \(costs.last!)"
        } else {
            what = "training of \(costs[0])"
        }
        return "\(what) (job \(id)), epoch \(position ?? 1) of \(plan.configuration.epochs)"
    }

    // MARK: - The runs

    /// The body of run `index`'s thread.
    private func train(run index: Int) {
        let cost = plan.costs[index]
        let configuration = plan.configuration(for: cost)
        let probe = sets.training.slice(0 ..< min(Self.probeCount, sets.training.count))
        let batchesPerEpoch = (sets.training.count + configuration.batchSize - 1) / configuration.batchSize
        lock.withLock { _ in runs[index].batchesPerEpoch = batchesPerEpoch }
        let pace = plan.batchesPerSecond.map { Duration.seconds(1 / $0) }
        var nextBatch = clock.now, nextTemplates = clock.now
        // A point every 1/`pointsPerEpoch` of an epoch (and at its end); slowed down, every batch.
        let interval = pace == nil ? max(1, batchesPerEpoch / Self.pointsPerEpoch) : 1
        let observer = TrainingObserver(every: interval) { progress, weights in
            if let pace {
                nextBatch += pace
                try self.sleep(until: nextBatch)
            }
            let now = self.clock.now
            let endOfEpoch = progress.batchesDone == progress.batchCount
            let withTemplates = pace != nil || endOfEpoch || now >= nextTemplates
            if withTemplates { nextTemplates = now + self.limits.frameInterval }
            self.record(run: index, progress: progress, model: weights(), probe: probe, withTemplates: withTemplates)
        }
        let result: TrainingEvent.RunResult
        do {
            let outcome = try SoftmaxTrainer(configuration: configuration).run(
                on: sets.training, observer: observer, shouldStop: { self.shouldStop })
            let evaluation = Evaluation(of: outcome.model, on: sets.test, lossFunction: cost)
            // The metadata `train` writes: the data as read (before deskewing) and how it was prepared.
            var provenance = outcome.provenance
            provenance.preprocessing = plan.preprocessing
            provenance.trainingDigests = sets.digests
            provenance.test = evaluation
            let stored = StoredModel(model: outcome.model, provenance: provenance)
            lock.withLock { _ in runs[index].model = stored }
            result = TrainingEvent.RunResult(
                cost: cost.rawValue, outcome: .done, epochsRun: outcome.epochsRun,
                testAccuracy: evaluation.accuracy, testLoss: evaluation.meanLoss, message: nil,
                model: modelPath(cost))
        } catch let divergence as DivergenceError {
            result = unfinished(cost, outcome: .diverged, epochsRun: divergence.epoch - 1, message: "\(divergence)")
        } catch let interrupted as TrainingInterrupted {
            let epochsRun = if case .epoch(let epoch, _) = interrupted.position { epoch - 1 } else { 0 }
            result = unfinished(
                cost, outcome: .stopped, epochsRun: epochsRun,
                message: lock.withLock { _ in stopReason } ?? "\(interrupted)")
        } catch {
            result = unfinished(cost, outcome: .failed, epochsRun: 0, message: "\(error)")
        }
        lock.withLock { _ in runs[index].result = result }
    }

    private func unfinished(_ cost: LossFunction, outcome: TrainingEvent.Outcome, epochsRun: Int, message: String)
        -> TrainingEvent.RunResult
    {
        TrainingEvent.RunResult(
            cost: cost.rawValue, outcome: outcome, epochsRun: epochsRun, testAccuracy: nil, testLoss: nil,
            message: message, model: nil)
    }

    /// Sleeps until `deadline` in slices, so that a stop request is seen within 100 ms.
    private func sleep(until deadline: ContinuousClock.Instant) throws {
        while clock.now < deadline {
            if shouldStop { return }
            BackgroundThread.sleep(for: min(.milliseconds(100), deadline - clock.now))
        }
    }

    /// Measures the weights at `progress` and records the point (and the templates).
    private func record(
        run index: Int, progress: BatchProgress, model: SoftmaxModel, probe: LabeledImages, withTemplates: Bool
    ) {
        let cost = plan.costs[index]
        let evaluation = Evaluation(of: model, on: sets.test, lossFunction: cost)
        let gradient = MisclassifiedGradient(of: model, on: probe, lossFunction: cost)
        let point = TrainingEvent.Point(
            epoch: progress.epoch, batch: progress.batchesDone,
            samples: (progress.epoch - 1) * progress.sampleCount + progress.samplesDone,
            loss: progress.runningLoss, accuracy: evaluation.accuracy,
            wrongGradient: gradient.meanTrueClassMagnitude)
        let templates = withTemplates ? Self.templates(of: model) : nil
        lock.withLock { _ in
            runs[index].latest = point
            runs[index].fresh.append(point)
            runs[index].retained.append(point)
            if runs[index].retained.count > limits.retainedPoints {
                runs[index].retained = runs[index].retained.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            }
            if let templates {
                runs[index].templates = templates
                runs[index].templatesChanged = true
            }
        }
    }

    /// The ten templates as `WeightTemplates` renders them at scale 1 (the library's colour map and
    /// scale), base64 of 10 × 28 × 28 RGB; nil when a weight is not finite.
    private static func templates(of model: SoftmaxModel) -> (base64: String, limit: Float)? {
        guard let rendered = try? WeightTemplates.render(model, scale: 1) else { return nil }
        let bytes = rendered.classes.flatMap(\.pixels)
        return (Data(bytes).base64EncodedString(), rendered.colorScale.limits.first ?? 0)
    }

    // MARK: - Results

    /// Where GET fetches the model of `cost`.
    func modelPath(_ cost: LossFunction) -> String {
        kind == .race ? "/api/train/model?loss=\(cost.rawValue)" : "/api/train/model"
    }

    /// The trained model of `cost`, once its run is done; nil before, or when it did not finish.
    func model(of cost: LossFunction) -> StoredModel? {
        lock.withLock { _ in runs.first { $0.cost == cost }?.model }
    }

    /// A file name for the model of `cost`: "mnist-softmax-job3-mse.safetensors".
    func fileName(of cost: LossFunction) -> String { "mnist-softmax-job\(id)-\(cost.rawValue).safetensors" }

    // MARK: - Streams

    /// A stream of this job's events: first one frame with every point so far and the latest
    /// templates, then the frames as they come, and the final event, after which it ends. Holds at
    /// most `TrainingLimits.streamBuffer` events for a slow reader, dropping the oldest. A point
    /// may come twice (in the first frame and the next): `samples` identifies it. `onEnd` is
    /// called once the stream ends, whoever ends it.
    func subscribe(onEnd: @escaping @Sendable () -> Void) -> AsyncStream<Data> {
        let (stream, continuation) = AsyncStream<Data>.makeStream(
            bufferingPolicy: .bufferingNewest(limits.streamBuffer))
        lock.withLock { _ in
            let catchUp = frame(points: \.retained, allTemplates: true)
            if !catchUp.runs.allSatisfy({ $0.points.isEmpty }) {
                continuation.yield(TrainingEvent.frame(catchUp).serialized)
            }
            if let ending {
                continuation.yield(ending.serialized)
                continuation.finish()
                onEnd()
                return
            }
            let key = nextStream
            nextStream += 1
            streams[key] = continuation
            unwatchedSince = nil
            continuation.onTermination = { _ in
                self.lock.withLock { _ in
                    self.streams[key] = nil
                    if self.streams.isEmpty { self.unwatchedSince = self.clock.now }
                }
                onEnd()
            }
        }
        return stream
    }

    /// A frame of the runs: their `points` (fresh or retained) and their templates, all of them or
    /// only those that changed. Called under `lock`.
    private func frame(points: KeyPath<Run, [TrainingEvent.Point]>, allTemplates: Bool) -> TrainingEvent.Frame {
        let slowest = runs.compactMap(\.latest).min { ($0.epoch, $0.batch) < ($1.epoch, $1.batch) }
        return TrainingEvent.Frame(
            job: id, epoch: slowest?.epoch ?? 1, batch: slowest?.batch ?? 0,
            runs: runs.map { run in
                let templates = allTemplates || run.templatesChanged ? run.templates : nil
                return TrainingEvent.RunFrame(
                    cost: run.cost.rawValue, batchesPerEpoch: run.batchesPerEpoch, latest: run.latest,
                    points: run[keyPath: points], templates: templates?.base64,
                    templateLimit: templates?.limit)
            })
    }

    /// Every frame interval: sends a frame when a run has new points, a heartbeat now and then,
    /// stops the job when nobody has watched for `unwatchedTimeout`, and once every run has
    /// ended, sends the last frame and the final event and ends the streams.
    private func pump() async {
        var lastSent = clock.now
        while true {
            try? await Task.sleep(for: limits.frameInterval)
            let now = clock.now
            let (unwatchedFor, finished) = lock.withLock { _ in
                (unwatchedSince.map { now - $0 }, runs.allSatisfy { $0.result != nil })
            }
            if let unwatchedFor, unwatchedFor >= limits.unwatchedTimeout {
                stop(because: "nobody watched the job for \(limits.unwatchedTimeout)")
            }
            if broadcastFrame() {
                lastSent = now
            } else if now - lastSent >= limits.heartbeatInterval {
                broadcast(TrainingEvent.heartbeat)
                lastSent = now
            }
            if finished {
                finish()
                return
            }
        }
    }

    /// Sends the points and templates recorded since the last frame, if any; true when it sent.
    private func broadcastFrame() -> Bool {
        let event: Data? = lock.withLock { _ in
            guard runs.contains(where: { !$0.fresh.isEmpty }) else { return nil }
            let event = TrainingEvent.frame(frame(points: \.fresh, allTemplates: false)).serialized
            for index in runs.indices {
                runs[index].fresh.removeAll()
                runs[index].templatesChanged = false
            }
            return event
        }
        guard let event else { return false }
        broadcast(event)
        return true
    }

    private func broadcast(_ event: Data) {
        let targets = lock.withLock { _ in Array(streams.values) }
        for stream in targets { stream.yield(event) }
    }

    /// The final event: `done` when a run finished, else `diverged`, `stopped` or `failed` after
    /// the first run's outcome; sent to every stream, which then ends.
    private func finish() {
        let (event, targets): (TrainingEvent, [AsyncStream<Data>.Continuation]) = lock.withLock { _ in
            let results = runs.compactMap(\.result)
            let firstUnfinished = results.first { $0.outcome != .done }
            let ending = TrainingEvent.Ending(
                job: id, message: firstUnfinished?.message,
                seconds: (clock.now - started).seconds, runs: results)
            let event: TrainingEvent =
                if results.contains(where: { $0.outcome == .done }) {
                    .done(ending)
                } else {
                    switch firstUnfinished?.outcome {
                    case .diverged: .diverged(ending)
                    case .stopped: .stopped(ending)
                    default: .failed(ending)
                    }
                }
            self.ending = event
            let targets = Array(streams.values)
            streams.removeAll()
            return (event, targets)
        }
        let bytes = event.serialized
        for stream in targets {
            stream.yield(bytes)
            stream.finish()
        }
    }
}
