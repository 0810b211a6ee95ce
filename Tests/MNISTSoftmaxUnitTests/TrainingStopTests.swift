import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// Interruption through the library: the trainer asks `shouldStop` and ends at the next boundary.
struct TrainingStopTests {
    @Test func shouldStopIsAskedBeforeEachBatchAndStopsAtTheNextBoundary() throws {
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.batchSize = 10
        let data = try blockDataset(count: 200, seed: 3)  // 20 batches per epoch
        var asked = 0, epochsFinished = 0
        let error = try #require(
            thrownError(TrainingInterrupted.self) {
                try SoftmaxTrainer(configuration: configuration).train(
                    on: data, afterEpoch: { _ in epochsFinished += 1 },
                    shouldStop: {
                        asked += 1
                        return asked == 25
                    })
            })
        // Asked 20 times in epoch 1, then before batches 1…5 of epoch 2: the 25th answer stops it
        // before batch 5, after 4.
        #expect(error == TrainingInterrupted(at: .epoch(2, batchesCompleted: 4)))
        #expect(epochsFinished == 1)
        #expect(error.description.contains("epoch 2, after 4"))
    }

    @Test func shouldStopEndsLBFGSAfterTheIterationItWasAskedIn() throws {
        var configuration = blockTaskConfiguration(seed: 3)
        configuration.optimizer = .lbfgs
        let data = try blockDataset(count: 200, seed: 3)
        var asked = 0, iterationsReported = 0
        let error = try #require(
            thrownError(TrainingInterrupted.self) {
                try SoftmaxTrainer(configuration: configuration).train(
                    on: data, afterEpoch: { _ in iterationsReported += 1 },
                    shouldStop: {
                        asked += 1
                        return asked == 3
                    })
            })
        // Asked once per iteration, before it is reported: the third answer stops the run after
        // iteration 3, with iterations 1 and 2 reported.
        #expect(error == TrainingInterrupted(at: .iteration(3)))
        #expect(iterationsReported == 2)
        #expect(error.description == "training stopped on request after L-BFGS iteration 3")
    }
}
