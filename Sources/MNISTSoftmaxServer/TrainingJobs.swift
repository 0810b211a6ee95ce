import FoundationEssentials
import MNISTSoftmax
import Synchronization

/// The Train view's API: at most one training job at a time (a race of three costs counts as
/// one), started, watched, stopped and fetched through the routes below. A request that would
/// start a second gets 409 naming the one that runs; more than `TrainingLimits.maximumStreams`
/// event streams get 429.
///
///     POST   /api/train          body: settings (`TrainingRequest`) → 202 {"job": ID}
///     POST   /api/race           the same for the three costs
///     GET    /api/train/defaults `train`'s defaults, which left-out settings take (`TrainingDefaults`)
///     GET    /api/train/events   text/event-stream of the running or last job (`TrainingEvent`)
///     GET    /api/train/model    the trained safetensors file (?loss=COST when racing)
///     POST   /api/train/use      the trained model becomes the draw view's (?loss=COST when racing)
///     DELETE /api/train          stops the running job
final class TrainingJobs: @unchecked Sendable {
    let limits: TrainingLimits
    private let data: TrainingDataSource
    /// Guards the variables below, which stay fields of the class (so it holds no value).
    private let lock = Mutex(())
    /// The running or last job.
    private var current: TrainingJob?
    /// True while a start request reads the data, so that a second one is refused meanwhile.
    private var starting = false
    private var nextJob = 1
    private var openStreams = 0

    init(data: TrainingDataSource, limits: TrainingLimits) {
        self.data = data
        self.limits = limits
    }

    /// The answer of 202 to a start request.
    private struct Started: Encodable {
        let job: Int
        let kind: String
        let costs: [String]
        let epochs: Int
        let events: String
    }

    /// What a 409 says runs.
    private struct Busy: Encodable {
        let error: String
        let running: Running

        struct Running: Encodable {
            let job: Int
            let kind: String
            let costs: [String]
        }
    }

    /// POST /api/train (`racing` false) or /api/race.
    func start(body: [UInt8], racing: Bool) async -> HTTPResponse {
        guard body.count <= limits.maximumBodyBytes else {
            return .error(
                .contentTooLarge, "the settings are \(body.count) bytes, above the limit of \(limits.maximumBodyBytes)")
        }
        let request: TrainingRequest
        do {
            request = try TrainingRequest.decode(body)
        } catch {
            return .error(.badRequest, error.description)
        }
        if let busy = reserve() { return busy }
        defer { lock.withLock { _ in starting = false } }
        let plan: TrainingPlan
        let sets: TrainingDataSource.Sets
        do {
            let raw = try await data.sets(.none)
            plan = try request.plan(racing: racing, trainingCount: raw.training.count, limits: limits)
            sets = plan.preprocessing == .none ? raw : try await data.sets(plan.preprocessing)
        } catch let refusal as TrainingRequestError {
            return .error(.badRequest, refusal.description)
        } catch {
            return .error(.serviceUnavailable, "cannot read the training data in \(data.directory.path): \(error)")
        }
        let job = lock.withLock { _ in
            let job = TrainingJob(id: nextJob, kind: racing ? .race : .train, plan: plan, sets: sets, limits: limits)
            nextJob += 1
            current = job
            return job
        }
        job.start()
        return .json(
            .accepted,
            encoding: Started(
                job: job.id, kind: job.kind.rawValue, costs: plan.costs.map(\.rawValue),
                epochs: plan.configuration.epochs, events: "/api/train/events"))
    }

    /// Marks a start in progress; the 409 to answer instead when a job runs or starts.
    private func reserve() -> HTTPResponse? {
        lock.withLock { _ in
            if let job = current, job.isRunning {
                let busy = Busy(
                    error: "a \(job.summary) is running; stop it with DELETE /api/train, or wait for it to end",
                    running: Busy.Running(job: job.id, kind: job.kind.rawValue, costs: job.plan.costs.map(\.rawValue)))
                return .json(.conflict, encoding: busy)
            }
            if starting {
                return .error(.conflict, "a training job is starting; wait for it, or stop it with DELETE /api/train")
            }
            starting = true
            return nil
        }
    }

    /// GET /api/train/events.
    func events() -> HTTPResponse {
        let job: TrainingJob? = lock.withLock { _ in
            guard let job = current, openStreams < limits.maximumStreams else { return nil }
            openStreams += 1
            return job
        }
        guard let job else {
            return lock.withLock { _ in current } == nil
                ? .error(.notFound, "no training job yet; start one with POST /api/train or /api/race")
                : .error(
                    .tooManyRequests, "\(limits.maximumStreams) event streams are open, the most at once; close one")
        }
        return .eventStream(job.subscribe { [self] in lock.withLock { _ in openStreams -= 1 } })
    }

    /// DELETE /api/train.
    func stop() -> HTTPResponse {
        guard let job = lock.withLock({ _ in current }), job.isRunning else {
            return .error(.notFound, "no training job is running")
        }
        job.stop(because: "stopped by DELETE /api/train")
        return .json(.accepted, encoding: ["job": job.id])
    }

    /// The trained model that `query` names (`loss=COST`, needed when racing), with its job; or
    /// the refusal to answer.
    func trainedModel(query: [String: String]) -> Result<
        (job: TrainingJob, cost: LossFunction, stored: StoredModel), HTTPRefusal
    > {
        guard let job = lock.withLock({ _ in current }) else {
            return .failure(HTTPRefusal(.notFound, "no training job yet; start one with POST /api/train or /api/race"))
        }
        let cost: LossFunction
        if let name = query["loss"] {
            guard let named = LossFunction(rawValue: name), job.plan.costs.contains(named) else {
                return .failure(
                    HTTPRefusal(
                        .badRequest,
                        "job \(job.id) trained \(job.plan.costs.map(\.rawValue).joined(separator: ", ")), not '\(name)'"
                    ))
            }
            cost = named
        } else {
            guard job.plan.costs.count == 1 else {
                return .failure(
                    HTTPRefusal(
                        .badRequest,
                        "job \(job.id) is a race: add ?loss= and one of "
                            + job.plan.costs.map(\.rawValue).joined(separator: ", ")))
            }
            cost = job.plan.costs[0]
        }
        guard let stored = job.model(of: cost) else {
            let state = job.isRunning ? "is still running" : "did not finish"
            return .failure(
                HTTPRefusal(.conflict, "the \(cost.rawValue) run of job \(job.id) \(state): no model to give"))
        }
        return .success((job, cost, stored))
    }

    /// GET /api/train/model: the safetensors file, as `train` writes it.
    func modelFile(query: [String: String]) -> HTTPResponse {
        switch trainedModel(query: query) {
        case .failure(let refusal):
            return .error(refusal.status, refusal.message)
        case .success(let found):
            return HTTPResponse(
                .ok,
                fields: [
                    HeaderField(name: "Content-Type", value: "application/octet-stream"),
                    HeaderField(
                        name: "Content-Disposition",
                        value: "attachment; filename=\"\(found.job.fileName(of: found.cost))\""),
                ], body: Data(SafeTensorsFile.encode(found.stored)))
        }
    }
}
