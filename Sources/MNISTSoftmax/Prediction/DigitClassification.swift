/// What a stored model makes of one digit: the code path shared by `predict` and `serve`, so that
/// both give the same answer for the same image.
public struct DigitClassification: Equatable, Sendable {
    /// How many of the most probable classes `predict` prints and `serve` returns as `top`.
    public static let shownClassCount = 3

    /// (28, 28) u8 row-major: the image the model saw, after the model's own preprocessing
    /// (deskewing when it was trained deskewed).
    public let modelInput: GrayImage
    /// p = softmax(z), from the same kernel that training and evaluation use; 10 values.
    public let probabilities: [Float]
    /// z_k = b_k + Σ_j W_kj · x_j with x_j = pixel_j / 255; 10 values.
    public let logits: [Float]

    /// The `count` most probable classes, most probable first; equal probabilities keep label
    /// order. `count` is clamped to 0…10.
    public func mostProbable(_ count: Int = shownClassCount) -> [ClassProbability] {
        ClassProbability.ranked(probabilities, count: count)
    }
}

extension StoredModel {
    /// Classifies a 28×28 digit in MNIST's form (white ink on black, as `DigitPreprocessor` or
    /// an IDX file gives it): applies the model's preprocessing, then the model.
    /// digit: (28, 28) u8 row-major.
    public func classify(_ digit: GrayImage) -> DigitClassification {
        precondition(
            digit.width == DigitPreprocessor.side && digit.height == DigitPreprocessor.side,
            "a model input is 28×28")
        let prepared = preprocessing.apply(toImage: digit.pixels, rows: digit.height, columns: digit.width)
        return DigitClassification(
            modelInput: GrayImage(width: digit.width, height: digit.height, pixels: prepared)!,
            probabilities: model.probabilities(forPixels: prepared),
            logits: model.logits(forPixels: prepared))
    }

    /// Classifies a picture of a digit as `predict` does a PNG: MNIST's preprocessing
    /// (`DigitPreprocessor`), then `classify(_:)`. grey, alpha: (height, width) u8 planes of the
    /// same size; `name` stands for the source in errors. Throws `DigitImageError` for a blank or
    /// fully transparent picture.
    public func classify(gray: GrayImage, alpha: GrayImage, name: String) throws -> (
        digit: PreprocessedDigit, classification: DigitClassification
    ) {
        let digit = try DigitPreprocessor.preprocess(gray: gray, alpha: alpha, path: name)
        return (digit, classify(digit.input))
    }
}

extension SoftmaxModel {
    /// z = W x + b for one image, x = pixel / 255, summed in Double over the pixels in index
    /// order and rounded to Float once: the logit that the evidence map W_k ⊙ x adds up to, plus b_k.
    /// pixels: (784) u8; W: (10, 784) row-major; returns (10).
    public func logits(forPixels pixels: [UInt8]) -> [Float] {
        precondition(pixels.count == Self.featureCount, "an image has 784 pixels")
        return (0 ..< Self.classCount).map { k in
            var sum = Double(bias[k])
            for j in 0 ..< Self.featureCount where pixels[j] != 0 {
                sum += Double(weights[k * Self.featureCount + j]) * (Double(pixels[j]) / 255)
            }
            return Float(sum)
        }
    }
}
