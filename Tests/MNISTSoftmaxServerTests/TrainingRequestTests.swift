import MNISTSoftmax
import MNISTSoftmaxServer
import Testing

/// The settings of POST /api/train and /api/race: what a left-out setting becomes, what each key
/// sets, and every refusal, before any data is read.
struct TrainingRequestTests {
    static func plan(_ body: String, racing: Bool = false) throws(TrainingRequestError) -> TrainingPlan {
        try TrainingRequest.decode(Array(body.utf8)).plan(
            racing: racing, trainingCount: 60_000, limits: TrainingLimits())
    }

    /// The message of the refusal of `body`, or nil when it is accepted.
    static func refusal(_ body: String, racing: Bool = false) -> String? {
        do {
            _ = try plan(body, racing: racing)
            return nil
        } catch {
            return error.description
        }
    }

    /// An empty body and {} both give `train`'s configuration, on one thread (the weights are the
    /// same on any count), the cross-entropy, no preprocessing, full speed.
    @Test(arguments: ["", "{}"])
    func leftOutSettingsAreTrainsDefaults(body: String) throws {
        let plan = try Self.plan(body)
        var expected = TrainingConfiguration()
        expected.threads = 1
        expected.threadsFollowFreeCores = false
        #expect(plan.configuration == expected)
        #expect(plan.costs == [.softmaxCrossEntropy] && plan.preprocessing == .none && plan.batchesPerSecond == nil)
    }

    @Test func everySettingIsRead() throws {
        let plan = try Self.plan(
            #"{"loss": "mse", "learning_rate": 0.125, "momentum": 0.5, "batch_size": 32, "l2": 0.001, "epochs": 3,"#
                + #" "deskew": true, "seed": 7, "batches_per_second": 4}"#)
        #expect(plan.costs == [.softmaxQuadratic])
        let configuration = plan.configuration(for: .softmaxQuadratic)
        #expect(configuration.lossFunction == .softmaxQuadratic && configuration.learningRate == 0.125)
        #expect(configuration.momentum == 0.5 && configuration.batchSize == 32 && configuration.l2 == 0.001)
        #expect(configuration.epochs == 3 && configuration.seed == 7)
        #expect(plan.preprocessing == .deskew && plan.batchesPerSecond == 4)
    }

    @Test func aRaceTrainsTheThreeCostsAndTakesNoLoss() throws {
        #expect(try Self.plan("{}", racing: true).costs == LossFunction.allCases)
        #expect(Self.refusal(#"{"loss": "mse"}"#, racing: true) == "a race trains every cost; leave out loss")
    }

    @Test(arguments: [
        (#"{"learning_rate": 0}"#, "learning_rate must be a positive number, got 0.0"),
        (#"{"learning_rate": -1}"#, "learning_rate must be a positive number, got -1.0"),
        (#"{"learning_rate": NaN}"#, "the body is not valid JSON (and JSON numbers are finite: no NaN, no infinity)"),
        (#"{"learning_rate": "fast"}"#, "learning_rate must be a finite number"),
        (#"{"batch_size": 0}"#, "batch_size must be 1…60000 (the training set), got 0"),
        (#"{"batch_size": 60001}"#, "batch_size must be 1…60000 (the training set), got 60001"),
        (#"{"loss": "hinge"}"#, "unknown cost 'hinge'; use one of softmax-ce, sigmoid-bce, mse"),
        (#"{"momentum": 1}"#, "momentum must be in [0, 1), got 1.0"),
        (#"{"epochs": 101}"#, "epochs must be 1…100, got 101"),
        (#"{"l2": -0.5}"#, "l2 must be zero or positive, got -0.5"),
        (#"{"seed": -1}"#, "seed must be a whole number from 0 to 18446744073709551615"),
        (#"{"batches_per_second": 0.5}"#, "batches_per_second must be 1.0…10.0, got 0.5"),
        (#"{"deskew": "yes"}"#, "deskew must be true or false"),
        (#"{"epochs": 1.5}"#, "epochs must be a whole number"),
        (#"{"learning_rate": 1e999}"#, "learning_rate must be a finite number"),
        ("[1]", #"the body must be a JSON object of settings, such as {"epochs": 1}"#),
    ])
    func badSettingsAreRefusedWithAMessage(body: String, message: String) {
        #expect(Self.refusal(body) == message)
    }

    /// A misspelt key is named as it was sent, with the keys there are.
    @Test func anUnknownKeyIsRefusedAndNamed() {
        let message = Self.refusal(#"{"learning_rte": 0.1}"#)
        #expect(
            message?.hasPrefix("unknown setting 'learning_rte'; the settings are loss, learning_rate,") == true,
            "\(message ?? "nil")")
    }
}
