/// Stops training once the validation loss has not improved for `patience` epochs in a row, and
/// remembers the best weights seen.
struct EarlyStopping {
    let patience: Int
    private(set) var best: (epoch: Int, loss: Double, model: SoftmaxModel)?

    init(patience: Int) {
        self.patience = patience
    }

    /// Records `epoch`'s validation loss; keeps `model()` when it is the best so far. Returns
    /// false once `patience` epochs have passed since the best.
    mutating func shouldContinue(after epoch: Int, validationLoss: Double, model: () -> SoftmaxModel) -> Bool {
        if best.map({ validationLoss < $0.loss }) ?? true {
            best = (epoch, validationLoss, model())
        }
        return epoch - best!.epoch < patience
    }
}
