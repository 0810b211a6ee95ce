import Dispatch
import FoundationEssentials

/// What is done to every image before the model sees it. Recorded in the model file, so that a
/// model is always evaluated and used on images prepared the way it was trained on.
public enum Preprocessing: String, CaseIterable, Sendable {
    /// The pixels as they are.
    case none
    /// Moment-based deskewing (`Deskew`).
    case deskew

    /// Applies the preprocessing to every image of `data`.
    public func apply(to data: LabeledImages) -> LabeledImages {
        switch self {
        case .none: data
        case .deskew: Deskew.deskewed(data)
        }
    }

    /// Applies the preprocessing to one image. image: (rows, columns) u8 row-major.
    public func apply(toImage image: [UInt8], rows: Int, columns: Int) -> [UInt8] {
        switch self {
        case .none:
            return image
        case .deskew:
            var output = [UInt8](repeating: 0, count: image.count)
            image.withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { Deskew.deskew(input, rows: rows, columns: columns, into: $0) }
            }
            return output
        }
    }
}

/// Straightens slanted handwriting by its image moments.
///
/// With intensities I(r, c) as weights: the centre of mass (r̄, c̄), var(r) = E[(r − r̄)²] and
/// cov(r, c) = E[(r − r̄)(c − c̄)]. A stroke slanted by α = cov(r, c) / var(r) columns per row
/// becomes upright under the shear c′ = c − α (r − r̄). The output pixel (r, c) samples the
/// input bilinearly at (r + r̄ − h, c + α (r − h) + c̄ − w), where (h, w) = (rows / 2, columns / 2):
/// the shear about the centre of mass, which also moves that centre to (h, w). Points outside
/// the input read as 0. This is the transform of the classic scipy recipe
/// (`ndimage.affine_transform` with order 1), so its accuracy figures carry over.
/// A blank image, or one whose ink lies on a single row, is returned unchanged.
public enum Deskew {
    /// Every image of `data` deskewed, labels unchanged. Images are split across the cores.
    public static func deskewed(_ data: LabeledImages) -> LabeledImages {
        let size = data.pixelsPerImage
        var output = [UInt8](repeating: 0, count: data.pixels.count)
        let threads = max(1, min(ProcessInfo.processInfo.activeProcessorCount, data.count))
        data.pixels.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                // Disjoint ranges of images per thread: no two threads write the same bytes.
                nonisolated(unsafe) let input = input, output = output
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    for image in data.count * thread / threads ..< data.count * (thread + 1) / threads {
                        deskew(
                            UnsafeBufferPointer(rebasing: input[image * size ..< (image + 1) * size]),
                            rows: data.rows, columns: data.columns,
                            into: UnsafeMutableBufferPointer(rebasing: output[image * size ..< (image + 1) * size]))
                    }
                }
            }
        }
        // Same shapes and labels as `data`, which were validated.
        return try! LabeledImages(pixels: output, labels: data.labels, rows: data.rows, columns: data.columns)
    }

    /// Deskews one image. image, output: (rows, columns) u8 row-major.
    public static func deskew(
        _ image: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        // Moments in Double: Σ I r, Σ I c, Σ I r², Σ I r c over at most 255 · 784 intensity.
        var total = 0.0, sumR = 0.0, sumC = 0.0, sumRR = 0.0, sumRC = 0.0
        for r in 0 ..< rows {
            for c in 0 ..< columns {
                let intensity = Double(image[r * columns + c])
                total += intensity
                sumR += intensity * Double(r)
                sumC += intensity * Double(c)
                sumRR += intensity * Double(r * r)
                sumRC += intensity * Double(r * c)
            }
        }
        let meanR = sumR / total, meanC = sumC / total
        let varianceR = sumRR / total - meanR * meanR
        let covariance = sumRC / total - meanR * meanC
        guard total > 0, varianceR > 1e-9 else {
            _ = output.update(fromContentsOf: image)
            return
        }
        let alpha = covariance / varianceR
        let centreR = Double(rows) / 2, centreC = Double(columns) / 2
        for r in 0 ..< rows {
            let sourceR = Double(r) + meanR - centreR
            let shiftC = alpha * (Double(r) - centreR) + meanC - centreC
            for c in 0 ..< columns {
                let value = bilinear(image, rows: rows, columns: columns, row: sourceR, column: Double(c) + shiftC)
                output[r * columns + c] = UInt8(min(max(value.rounded(), 0), 255))
            }
        }
    }

    /// The bilinear interpolation of `image` at a fractional (row, column); pixels outside read 0.
    private static func bilinear(
        _ image: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int, row: Double, column: Double
    ) -> Double {
        // Far outside (or not a number): nothing to interpolate, and no Int conversion to trap.
        guard row > -1 && row < Double(rows) && column > -1 && column < Double(columns) else { return 0 }
        let r0 = Int(row.rounded(.down)), c0 = Int(column.rounded(.down))
        let fr = row - Double(r0), fc = column - Double(c0)
        func pixel(_ r: Int, _ c: Int) -> Double {
            r >= 0 && r < rows && c >= 0 && c < columns ? Double(image[r * columns + c]) : 0
        }
        let top = pixel(r0, c0) * (1 - fc) + pixel(r0, c0 + 1) * fc
        let bottom = pixel(r0 + 1, c0) * (1 - fc) + pixel(r0 + 1, c0 + 1) * fc
        return top * (1 - fr) + bottom * fr
    }
}
