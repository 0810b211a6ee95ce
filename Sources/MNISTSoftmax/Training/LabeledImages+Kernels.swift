import MNISTKernels

extension LabeledImages {
    /// The images and labels with the kernels' masks of all-0 vectors; 28×28 images only.
    var maskedForKernels: ColumnShardedSoftmax.MaskedImages {
        precondition(pixelsPerImage == SoftmaxModel.featureCount, "the kernels need 28×28 images")
        return ColumnShardedSoftmax.MaskedImages(pixels: pixels, labels: labels)
    }
}
