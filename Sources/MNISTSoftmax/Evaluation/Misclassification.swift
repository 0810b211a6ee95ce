/// A test image the model got wrong, and how sure it was.
public struct Misclassification: Equatable, Sendable {
    /// Position of the image in its set.
    public let index: Int
    /// The true label.
    public let label: Int
    /// argmax p, which differs from `label`.
    public let predicted: Int
    /// p_predicted, the model's probability for its wrong answer.
    public let probability: Float

    public init(index: Int, label: Int, predicted: Int, probability: Float) {
        self.index = index
        self.label = label
        self.predicted = predicted
        self.probability = probability
    }

    /// The `limit` misclassified images of `data` with the highest p_predicted, most confident
    /// first; ties go to the lower index. Fewer when the model makes fewer mistakes.
    public static func mostConfident(of model: SoftmaxModel, on data: LabeledImages, limit: Int) -> [Misclassification]
    {
        precondition(data.pixelsPerImage == SoftmaxModel.featureCount, "misclassifications need 28×28 images")
        let size = SoftmaxModel.featureCount
        var mistakes: [Misclassification] = []
        for index in 0 ..< data.count {
            // pixels of image `index`: (784) u8; the best class, the lower label on a tie.
            let best = model.mostProbableClasses(
                forPixels: Array(data.pixels[index * size ..< (index + 1) * size]), count: 1)[0]
            let label = Int(data.labels[index])
            if best.label != label {
                mistakes.append(
                    Misclassification(index: index, label: label, predicted: best.label, probability: best.probability))
            }
        }
        return Array(
            mistakes.sorted { ($0.probability, -$0.index) > ($1.probability, -$1.index) }.prefix(max(limit, 0)))
    }
}
