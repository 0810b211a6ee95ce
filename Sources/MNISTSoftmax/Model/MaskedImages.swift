import MNISTKernels

extension LabeledImages {
    /// The images and labels with the kernels' masks of all-0 vectors; 28×28 images only. Used by
    /// the model's loss and gradient and by the trainers, so it sits with the model.
    var maskedForKernels: ColumnShardedSoftmax.MaskedImages {
        precondition(pixelsPerImage == SoftmaxModel.featureCount, "the kernels need 28×28 images")
        return ColumnShardedSoftmax.MaskedImages(pixels: pixels, labels: labels)
    }
}
