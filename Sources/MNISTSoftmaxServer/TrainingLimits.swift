/// The bounds on live training (`TrainingJobs`), which keep one person's page from taking the
/// machine: `serve`'s defaults, which tests shrink.
package struct TrainingLimits: Sendable {
    /// Epochs one run may ask for.
    package var maximumEpochs = 100
    /// The JSON body of POST /api/train or /api/race: larger gets 413.
    package var maximumBodyBytes = 4 << 10
    /// Event streams (GET /api/train/events) open at once; more get 429.
    package var maximumStreams = 8
    /// A running job that no stream has watched for this long is stopped.
    package var unwatchedTimeout: Duration = .seconds(30)
    /// The least time between two `frame` events: at most 10 a second, whatever the training speed.
    package var frameInterval: Duration = .milliseconds(100)
    /// Frames a stream may fall behind by; a slower reader loses the oldest (never the last event).
    package var streamBuffer = 32
    /// Curve points kept per run for a stream that joins late; past it, every other point is dropped.
    package var retainedPoints = 2_000
    /// A comment line on every stream this often, so that a closed page is noticed.
    package var heartbeatInterval: Duration = .seconds(5)
    /// The slowed-down mode's pace, batches a second per run (one frame per batch).
    package var batchesPerSecond: ClosedRange<Double> = 1 ... 10

    package init() {}
}
