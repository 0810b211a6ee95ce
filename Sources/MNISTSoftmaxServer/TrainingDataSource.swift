import MNISTSoftmax
import Synchronization

/// The images live training uses, from the server's `--data-dir`: read on first use, then kept
/// (the training set is 47 MB, the test set 7.8 MB; deskewed copies, made on first use too, as
/// much again). The page never uploads data.
final class TrainingDataSource: Sendable {
    /// The sets of one preprocessing, as `mnist-softmax train` prepares them.
    struct Sets: Sendable {
        let training: LabeledImages
        let test: LabeledImages
        /// SHA-256 of the training images and labels (as read, before any preprocessing).
        let digests: (images: String, labels: String)
    }

    let directory: DataDirectory
    /// The sets read and prepared so far, by preprocessing.
    private let loaded = Mutex<[Preprocessing: Sets]>([:])

    init(directory: DataDirectory) {
        self.directory = directory
    }

    /// The sets prepared with `preprocessing`, read (and prepared) on a background thread the first
    /// time; throws `DatasetError` and the like when the files are missing or damaged.
    func sets(_ preprocessing: Preprocessing) async throws -> Sets {
        try await BackgroundThread.run { try self.prepared(preprocessing) }
    }

    /// Blocking: holds the lock while reading, so that concurrent first uses read once.
    private func prepared(_ preprocessing: Preprocessing) throws -> Sets {
        try loaded.withLock { loaded in
            if let sets = loaded[preprocessing] { return sets }
            let raw: Sets
            if let sets = loaded[.none] {
                raw = sets
            } else {
                let splits = try directory.load([.train, .test])
                raw = Sets(training: splits[0], test: splits[1], digests: splits[0].contentDigests())
                loaded[.none] = raw
            }
            let sets = Sets(
                training: preprocessing.apply(to: raw.training), test: preprocessing.apply(to: raw.test),
                digests: raw.digests)
            loaded[preprocessing] = sets
            return sets
        }
    }
}
