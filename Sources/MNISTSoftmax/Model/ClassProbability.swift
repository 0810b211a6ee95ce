/// One class and the probability the model gives it.
public struct ClassProbability: Equatable, Sendable, Encodable {
    /// The digit, 0…9.
    public let label: Int
    /// p_label = softmax(W x + b)_label.
    public let probability: Float

    public init(label: Int, probability: Float) {
        self.label = label
        self.probability = probability
    }
}

extension SoftmaxModel {
    /// The `count` most probable classes for one 784-pixel image (row-major u8), most probable
    /// first; equal probabilities keep label order. `count` is clamped to 0…10.
    public func mostProbableClasses(forPixels pixels: [UInt8], count: Int) -> [ClassProbability] {
        ClassProbability.ranked(probabilities(forPixels: pixels), count: count)
    }
}

extension ClassProbability {
    /// The `count` largest of `probabilities` (indexed by label) with their labels, largest
    /// first; equal probabilities keep label order. `count` is clamped to 0…probabilities.count.
    static func ranked(_ probabilities: [Float], count: Int) -> [ClassProbability] {
        let ranked = probabilities.enumerated()
            .map { ClassProbability(label: $0.offset, probability: $0.element) }
            .sorted { $0.probability > $1.probability || $0.probability == $1.probability && $0.label < $1.label }
        return Array(ranked.prefix(max(count, 0)))
    }
}
