/// The metadata keys of a trained model's file, and of a checkpoint's settings: the one list
/// (`TrainingProvenance` writes them; docs/model-file.md says what each holds).
public enum ModelMetadataKey: String, CaseIterable, Sendable {
    // What decides the weights.
    case optimizer, loss, l2, preprocessing, seed, epochs, momentum, nesterov, schedule, patience
    case batchSize = "batch_size"
    case learningRate = "learning_rate"
    case learningRateDecay = "learning_rate_decay"
    case maxIterations = "max_iterations"
    case validationSamples = "validation_samples"
    case trainingImagesSHA256 = "train_images_sha256"
    case trainingLabelsSHA256 = "train_labels_sha256"
    // How it ran: the thread cap (which does not change the weights) and the sample count.
    case threads
    case trainingSamples = "training_samples"
    // What it gave.
    case epochsRun = "epochs_run"
    case iterations
    case bestEpoch = "best_epoch"
    case stoppedBecause = "stopped_because"
    case finalTrainingLoss = "final_training_loss"
    case finalTrainingAccuracy = "final_training_accuracy"
    case finalValidationAccuracy = "final_validation_accuracy"
    case testAccuracy = "test_accuracy"
    case testLoss = "test_loss"
    case history
}
