import CLibPNG
import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

@Suite("PNG export")
struct PNGExportTests {
    // MARK: Colour map

    @Test func colorMapEndpointsAndMidpointsAreExact() {
        #expect(DivergingColorMap.color(for: -1) == RGBColor(red: 0, green: 0, blue: 255))
        #expect(DivergingColorMap.color(for: 0) == .white)
        #expect(DivergingColorMap.color(for: 1) == RGBColor(red: 255, green: 0, blue: 0))
        // 255 · 0.5 = 127.5 rounds away from zero to 128.
        #expect(DivergingColorMap.color(for: 0.5) == RGBColor(red: 255, green: 128, blue: 128))
        #expect(DivergingColorMap.color(for: -0.5) == RGBColor(red: 128, green: 128, blue: 255))
        // 255 · 0.75 = 191.25 → 191.
        #expect(DivergingColorMap.color(for: 0.25) == RGBColor(red: 255, green: 191, blue: 191))
    }

    @Test func colorMapClampsAndShowsNaNAsWhite() {
        #expect(DivergingColorMap.color(for: 3) == DivergingColorMap.color(for: 1))
        #expect(DivergingColorMap.color(for: -.infinity) == DivergingColorMap.color(for: -1))
        #expect(DivergingColorMap.color(for: .nan) == .white)
    }

    @Test func colorMapIsSymmetricAroundZero() {
        for step in 0 ... 100 {
            let t = Float(step) / 100
            let positive = DivergingColorMap.color(for: t)
            let negative = DivergingColorMap.color(for: -t)
            #expect(negative == RGBColor(red: positive.blue, green: positive.green, blue: positive.red))
            #expect(positive.red == 255 && positive.green == positive.blue)
        }
    }

    // MARK: PNG files

    @Test func pngRoundTripPreservesEveryPixelAndLeavesNoTemporaryFile() throws {
        try Self.withTemporaryDirectory { directory in
            let image = Self.noiseImage(width: 7, height: 5)
            let path = directory + "/noise.png"
            try PNGFile.write(image, to: path)
            #expect(try PNGFile.read(path) == image)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["noise.png"])
            let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            #expect(try Array(Self.bytes(of: path).prefix(8)) == signature)
        }
    }

    @Test func writingOverAnExistingFileReplacesIt() throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/image.png"
            try PNGFile.write(RGBImage(width: 3, height: 3, filledWith: RGBColor(red: 1, green: 2, blue: 3)), to: path)
            let replacement = Self.noiseImage(width: 4, height: 2)
            try PNGFile.write(replacement, to: path)
            #expect(try PNGFile.read(path) == replacement)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["image.png"])
        }
    }

    @Test func writingToAMissingDirectoryThrowsPNGError() throws {
        let path = "/nonexistent-\(UUID().uuidString)/dir/x.png"
        let error = #expect(throws: PNGError.self) {
            try PNGFile.write(RGBImage(width: 2, height: 2), to: path)
        }
        #expect(error?.path == path)
        #expect(error?.operation == .write)
        #expect(error?.description.contains(path) == true)
    }

    @Test func writingOntoADirectoryThrowsFileAccessError() throws {
        try Self.withTemporaryDirectory { directory in
            let error = #expect(throws: FileAccessError.self) {
                try PNGFile.write(RGBImage(width: 2, height: 2), to: directory)
            }
            #expect(error?.problem == .targetIsDirectory)
        }
    }

    @Test func writingAMalformedImageThrowsAndCreatesNothing() throws {
        try Self.withTemporaryDirectory { directory in
            var shortBuffer = RGBImage(width: 4, height: 4)
            shortBuffer.pixels.removeLast()
            #expect(throws: PNGError.self) { try PNGFile.write(shortBuffer, to: directory + "/short.png") }
            #expect(throws: PNGError.self) {
                try PNGFile.write(RGBImage(width: 0, height: 5), to: directory + "/empty.png")
            }
            let created = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(created.isEmpty)
        }
    }

    @Test func readingANonPNGFileThrows() throws {
        try Self.withTemporaryDirectory { directory in
            let textPath = directory + "/notes.png"
            try Data("this is plain text, not an image\n".utf8).write(to: URL(fileURLWithPath: textPath))
            let error = #expect(throws: PNGError.self) { try PNGFile.read(textPath) }
            #expect(error?.operation == .read)
            #expect(error?.path == textPath)

            let emptyPath = directory + "/empty.png"
            try Data().write(to: URL(fileURLWithPath: emptyPath))
            #expect(throws: PNGError.self) { try PNGFile.read(emptyPath) }
        }
    }

    @Test(arguments: [0.5, 0.9, 0.1])
    func readingATruncatedPNGThrows(keptFraction: Double) throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/truncated.png"
            try PNGFile.write(Self.noiseImage(width: 64, height: 64), to: path)
            let bytes = try Self.bytes(of: path)
            try Data(bytes.prefix(Int(Double(bytes.count) * keptFraction))).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: PNGError.self) { try PNGFile.read(path) }
            #expect(error?.hint != nil)
        }
    }

    @Test func readingAMissingFileOrADirectoryThrowsFileAccessError() throws {
        try Self.withTemporaryDirectory { directory in
            #expect(throws: FileAccessError.self) { try PNGFile.read(directory + "/missing.png") }
            let error = #expect(throws: FileAccessError.self) { try PNGFile.read(directory) }
            #expect(error?.problem == .notARegularFile(kind: "directory"))
        }
    }

    @Test func readingAnImageAboveThePixelCapIsRefusedFromItsHeader() throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/huge.png"
            // 10000 × 10000 > 8192 × 8192; the file holds only a header and an empty IDAT.
            try Data(headerOnlyPNG(width: 10_000, height: 10_000)).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: PNGError.self) { try PNGFile.read(path) }
            #expect(error?.message.contains("limit") == true)
        }
    }

    /// The smallest image: a 1×1 file written by us, and one that is only a header claiming 1×1
    /// with no pixel data (truncated), which must fail cleanly rather than read past the end.
    @Test func oneByOneImageRoundTripsAndATruncatedOneIsRefused() throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/dot.png"
            let image = try #require(RGBImage(width: 1, height: 1, pixels: [12, 34, 56]))
            try PNGFile.write(image, to: path)
            #expect(try PNGFile.read(path) == image)

            let emptyPath = directory + "/empty-dot.png"
            try Data(headerOnlyPNG(width: 1, height: 1)).write(to: URL(fileURLWithPath: emptyPath))
            let error = #expect(throws: PNGError.self) { try PNGFile.read(emptyPath) }
            #expect(error?.hint?.contains("truncated") == true, "\(String(describing: error))")
        }
    }

    /// One row more than 8192 × 8192 is refused from the header, with the size and the cap
    /// named, before the 192 MiB buffer such an image needs is allocated.
    @Test func oneRowAboveThePixelCapIsRefusedNamingSizeAndCap() throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/tall.png"
            try Data(headerOnlyPNG(width: 8192, height: 8193)).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: PNGError.self) { try PNGFile.read(path) }
            #expect(
                error?.message
                    == "image is 8192×8193 = 67117056 pixels, above the limit of \(PNGFile.maximumPixelCount)")
            #expect(PNGFile.maximumPixelCount == 8192 * 8192)
        }
    }

    @Test func greyAndAlphaInputsAreReadAsRGBOnWhite() throws {
        try Self.withTemporaryDirectory { directory in
            let path = directory + "/grey-alpha.png"
            // (grey, alpha) pairs: opaque 100, fully transparent black, opaque 255.
            let greyAlpha: [UInt8] = [100, 255, 0, 0, 255, 255]
            var control = png_image()
            control.version = png_uint_32(PNG_IMAGE_VERSION)
            control.width = 3
            control.height = 1
            control.format = png_uint_32(PNG_FORMAT_GA)
            let written = greyAlpha.withUnsafeBytes {
                png_image_write_to_file(&control, path, 0, $0.baseAddress, 6, nil)
            }
            #expect(written != 0)

            let image = try PNGFile.read(path)
            #expect(image.width == 3 && image.height == 1)
            #expect(image[x: 0, y: 0] == RGBColor(red: 100, green: 100, blue: 100))
            #expect(image[x: 1, y: 0] == .white)
            #expect(image[x: 2, y: 0] == .white)
        }
    }

    // MARK: Weight templates

    @Test func exportWritesElevenFilesThatReadBackToTheColourMap() throws {
        let maximum: Float = 2
        let model = Self.model { k, p in
            switch p {
            case 0: return maximum
            case 1: return -maximum
            case 2: return 0
            case 3: return maximum / 2
            case 4: return -maximum / 2
            default: return maximum * Float((p * 7 + k * 13) % 41 - 20) / 20
            }
        }
        try Self.withTemporaryDirectory { directory in
            let outputDirectory = directory + "/nested/templates"
            let paths = try WeightTemplates.write(model, toDirectory: outputDirectory, scaling: .max)
            let names = (0 ..< 10).map { "class-\($0).png" } + ["templates.png"]
            #expect(paths == names.map { outputDirectory + "/" + $0 })
            #expect(try FileManager.default.contentsOfDirectory(atPath: outputDirectory).sorted() == names.sorted())

            let rendered = try WeightTemplates.render(model, scaling: .max)
            for k in 0 ..< 10 {
                let image = try PNGFile.read(paths[k])
                #expect(image.width == 224 && image.height == 224)
                #expect(image == rendered.classes[k])
                // Weights 0…4 sit in the top row, columns 0…4: 8 × 8 blocks from x = 8·column.
                #expect(image[x: 0, y: 0] == RGBColor(red: 255, green: 0, blue: 0))
                #expect(image[x: 8, y: 7] == RGBColor(red: 0, green: 0, blue: 255))
                #expect(image[x: 23, y: 0] == .white)
                #expect(image[x: 24, y: 0] == RGBColor(red: 255, green: 128, blue: 128))
                #expect(image[x: 39, y: 7] == RGBColor(red: 128, green: 128, blue: 255))
                for p in 0 ..< 784 {
                    let expected = DivergingColorMap.color(for: model.weights[k * 784 + p] / maximum)
                    #expect(image[x: (p % 28) * 8 + 3, y: (p / 28) * 8 + 5] == expected)
                }
            }
            #expect(try PNGFile.read(paths[10]) == rendered.montage)
            let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
            for path in paths {
                #expect(try Array(Self.bytes(of: path).prefix(4)) == pngSignature)
            }
        }
    }

    @Test func maxAndPerClassScalingDifferAsDocumented() throws {
        // Class 0 peaks at 1, class 1 at 4, every other class is zero.
        let model = Self.model { k, p in
            switch (k, p) {
            case (0, 0): return 1
            case (0, 1): return -0.5
            case (1, 0): return 4
            case (1, 1): return -2
            default: return 0
            }
        }
        let shared = try WeightTemplates.render(model, scale: 1, scaling: .max).classes
        let perClass = try WeightTemplates.render(model, scale: 1, scaling: .perClass).classes
        // Shared: everything divided by 4.
        #expect(shared[0][x: 0, y: 0] == DivergingColorMap.color(for: 0.25))
        #expect(shared[0][x: 1, y: 0] == DivergingColorMap.color(for: -0.125))
        // Per class: class 0 divided by its own maximum 1, so it reaches pure red.
        #expect(perClass[0][x: 0, y: 0] == RGBColor(red: 255, green: 0, blue: 0))
        #expect(perClass[0][x: 1, y: 0] == RGBColor(red: 128, green: 128, blue: 255))
        // The class holding the global maximum is the same either way.
        #expect(shared[1] == perClass[1])
        #expect(shared[1][x: 0, y: 0] == RGBColor(red: 255, green: 0, blue: 0))
        // An all-zero template has scale 0 and is white under both scalings.
        for images in [shared, perClass] {
            #expect(images[2] == RGBImage(width: 28, height: 28))
        }
        #expect(TemplateScaling(rawValue: "per-class") == .perClass)
        #expect(TemplateScaling.allCases == [.percentile, .max, .perClass])
    }

    @Test func zeroModelRendersWhite() throws {
        for scaling in TemplateScaling.allCases {
            let classes = try WeightTemplates.render(SoftmaxModel(), scale: 2, scaling: scaling).classes
            let white = RGBImage(width: 56, height: 56)
            #expect(classes == [RGBImage](repeating: white, count: 10))
        }
    }

    @Test(arguments: [1, 3, 8])
    func upscalingRepeatsEachWeightInAScaleByScaleBlock(scale: Int) throws {
        // Neighbouring weights always differ, so every block boundary is visible.
        let model = Self.model { k, p in Float((p + k) % 5) - 2 }
        let template = try WeightTemplates.render(model, scale: scale).classes[4]
        #expect(template.width == 28 * scale && template.height == 28 * scale)
        for y in 0 ..< template.height {
            for x in 0 ..< template.width {
                let weight = model.weights[4 * 784 + (y / scale) * 28 + x / scale]
                #expect(template[x: x, y: y] == DivergingColorMap.color(for: weight / 2))
            }
        }
    }

    @Test(arguments: [1, 2, 8])
    func montagePlacesTwoRowsOfFiveWithGuttersAndMargin(scale: Int) throws {
        let model = Self.model { k, p in Float(k + 1) * (p % 2 == 0 ? 1 : -1) }
        let rendered = try WeightTemplates.render(model, scale: scale)
        let (classes, montage) = (rendered.classes, rendered.montage)
        let side = 28 * scale
        for k in 0 ..< 10 {
            let (left, top) = WeightTemplates.tileOrigin(of: k, scale: scale)
            #expect(left == scale + (k % 5) * (side + scale))
            for y in 0 ..< side {
                for x in 0 ..< side {
                    #expect(montage[x: left + x, y: top + y] == classes[k][x: x, y: y])
                }
            }
            // The gutter left of each template (the margin for the first column) is background.
            for y in top ..< top + side {
                for x in left - scale ..< left {
                    #expect(montage[x: x, y: y] == WeightTemplates.gutterColor, "class \(k) at (\(x), \(y))")
                }
            }
        }
        // The second row lies below the first, with its own label band between them.
        let first = WeightTemplates.tileOrigin(of: 0, scale: scale),
            sixth = WeightTemplates.tileOrigin(of: 5, scale: scale)
        #expect(
            sixth.x == first.x
                && sixth.y > first.y + side + BitmapFont.height(scale: WeightTemplates.textScale(forScale: scale)))
        #expect(montage.width >= 5 * side + 6 * scale)
    }

    @Test func percentileInterpolatesBetweenOrderStatisticsAsNumpyDoes() {
        // np.percentile([4, 1, 3, 2], 50) == 2.5; np.percentile(range(101), 99.5) == 99.5
        #expect(WeightTemplates.percentile(50, of: [4, 1, 3, 2]) == 2.5)
        #expect(WeightTemplates.percentile(99.5, of: (0 ... 100).map(Float.init)) == 99.5)
        // np.percentile([0, 0, 0, 10], 99.5) == 9.85 (rank 2.985)
        let interpolated = WeightTemplates.percentile(99.5, of: [0, 0, 0, 10])
        #expect(abs(interpolated - 9.85) < 1e-5, "\(interpolated)")
        #expect(WeightTemplates.percentile(100, of: [3, -1, 7]) == 7)
        #expect(WeightTemplates.percentile(0, of: [3, -1, 7]) == -1)
        #expect(WeightTemplates.percentile(99.5, of: []) == 0)
    }

    /// One outlier weight among weights of ±0.1 sets max |W| at 100: under `.max` a weight of
    /// 0.05 is then almost white, while the percentile scale clips the outlier and shows it at half strength.
    @Test func percentileScaleClipsTheOutlierThatWashesOutTheMaxScale() throws {
        let model = Self.model { k, p in
            if k == 5 && p == 27 { return 100 }
            if p == 0 { return 0.05 }
            return p % 2 == 0 ? 0.1 : -0.1
        }
        let robust = try WeightTemplates.render(model, scale: 1)
        #expect(robust.colorScale.scaling == .percentile && robust.colorScale.percentile == 99.5)
        #expect(robust.colorScale.limits == [Float](repeating: 0.1, count: 10))
        #expect(robust.colorScale.maximumMagnitude == 100)
        #expect(robust.colorScale.clippedCount == 1)
        #expect(robust.classes[5][x: 27, y: 0] == RGBColor(red: 255, green: 0, blue: 0))
        #expect(robust.classes[3][x: 0, y: 0] == DivergingColorMap.color(for: 0.5))
        #expect(robust.classes[3][x: 0, y: 0] == RGBColor(red: 255, green: 128, blue: 128))
        #expect(robust.colorScale.tickLabels == ["-0.1", "-0.05", "0", "+0.05", "+0.1"])

        let washedOut = try WeightTemplates.render(model, scale: 1, scaling: .max)
        #expect(washedOut.colorScale.limits == [Float](repeating: 100, count: 10))
        #expect(washedOut.colorScale.clippedCount == 0)
        #expect(washedOut.classes[3][x: 0, y: 0] == RGBColor(red: 255, green: 255, blue: 255))
        #expect(washedOut.colorScale.tickLabels == ["-100", "-50", "0", "+50", "+100"])

        // A lower percentile clips more; 100 is max |W|.
        let ninety = TemplateColorScale(weights: model.weights, scaling: .percentile, percentile: 90)
        #expect(ninety.limits[0] == 0.1 && ninety.clippedCount == 1)
        let hundred = TemplateColorScale(weights: model.weights, scaling: .percentile, percentile: 100)
        #expect(hundred.limits[0] == 100 && hundred.clippedCount == 0)
        #expect(throws: WeightTemplateError.percentileOutOfRange(0)) {
            try WeightTemplates.render(model, percentile: 0)
        }
        #expect(throws: WeightTemplateError.percentileOutOfRange(100.5)) {
            try WeightTemplates.render(model, percentile: 100.5)
        }
    }

    /// Each template's digit stands above it, and the colour bar's ticks and caption state the
    /// scale's values, all found by their pixels.
    @Test(arguments: [1, 8])
    func montageLabelsEachTemplateWithItsDigitAndTheBarWithItsValues(scale: Int) throws {
        let model = Self.model { k, p in Float(k + 1) * Float(p % 7 - 3) / 10 }
        let rendered = try WeightTemplates.render(model, scale: scale)
        let montage = rendered.montage
        let text = WeightTemplates.textScale(forScale: scale)
        let side = 28 * scale
        for k in 0 ..< 10 {
            let (left, top) = WeightTemplates.tileOrigin(of: k, scale: scale)
            let band = (
                x: left, y: top - 2 * BitmapFont.height(scale: text), width: side,
                height: 2 * BitmapFont.height(scale: text)
            )
            #expect(
                Self.find(String(k), scale: text, in: montage, region: band).count == 1,
                "no label \(k) above its template")
            for other in (0 ..< 10) where other != k {
                #expect(Self.find(String(other), scale: text, in: montage, region: band).isEmpty, "\(other) above \(k)")
            }
        }
        let gridBottom = WeightTemplates.tileOrigin(of: 9, scale: scale).y + side
        let below = (x: 0, y: gridBottom, width: montage.width, height: montage.height - gridBottom)
        var captionTops: [Int] = []
        for line in rendered.colorScale.caption {
            let found = Self.find(line, scale: text, in: montage, region: below)
            #expect(found.count == 1, "caption \(line)")
            captionTops += found.map(\.y)
        }
        #expect(rendered.colorScale.caption[1] == "SCALE: PERCENTILE 99.5 OF |W| OVER ALL TEN")
        // |W| takes the values 0.1·(k+1)·{0, 1, 2, 3}; its 99.5th percentile is 3. The ticks lie
        // between the templates and the caption.
        #expect(rendered.colorScale.tickLabels == ["-3", "-1.5", "0", "+1.5", "+3"])
        let ticks = (x: 0, y: gridBottom, width: montage.width, height: try #require(captionTops.first) - gridBottom)
        var tickPositions: [Int] = []
        for label in rendered.colorScale.tickLabels {
            let found = Self.find(label, scale: text, in: montage, region: ticks)
            #expect(found.count == 1, "tick \(label): \(found)")
            tickPositions += found.map(\.x)
        }
        #expect(tickPositions == tickPositions.sorted(), "ticks run from −s to +s, left to right")
        // The bar, three templates wide, runs from blue through white to red: column x shows
        // t = −1 + 2·(x + ½)/width. Nothing else in the montage has its colours.
        let barWidth = 3 * side + 2 * scale
        let expectedBar = (0 ..< barWidth).map {
            DivergingColorMap.color(for: -1 + 2 * (Float($0) + 0.5) / Float(barWidth))
        }
        let barRow = try #require(
            (gridBottom ..< montage.height).first { y in
                (0 ..< montage.width).contains { montage[x: $0, y: y] == expectedBar[0] }
            })
        let bar = (0 ..< montage.width).map { montage[x: $0, y: barRow] }.filter { $0 != WeightTemplates.gutterColor }
        #expect(bar == expectedBar)
    }

    /// The top-left corners where `text`, drawn in `BitmapFont` at `scale` in the montage's text
    /// colour on its background, appears exactly within `region` of `image`.
    static func find(
        _ text: String, scale: Int, in image: RGBImage,
        region: (x: Int, y: Int, width: Int, height: Int)
    ) -> [(x: Int, y: Int)] {
        var stamp = RGBImage(
            width: BitmapFont.width(of: text, scale: scale), height: BitmapFont.height(scale: scale),
            filledWith: WeightTemplates.gutterColor)
        stamp.draw(text, x: 0, y: 0, scale: scale, color: WeightTemplates.textColor)
        let ink = (0 ..< stamp.height).flatMap { y in (0 ..< stamp.width).map { (x: $0, y: y) } }
            .filter { stamp[x: $0.x, y: $0.y] == WeightTemplates.textColor }
        var found: [(x: Int, y: Int)] = []
        let (left, right) = (max(region.x, 0), min(region.x + region.width, image.width) - stamp.width)
        let (top, bottom) = (max(region.y, 0), min(region.y + region.height, image.height) - stamp.height)
        guard left <= right, top <= bottom, let firstInk = ink.first else { return [] }
        for y in top ... bottom {
            for x in left ... right where image[x: x + firstInk.x, y: y + firstInk.y] == WeightTemplates.textColor {
                var matches = true
                for sy in 0 ..< stamp.height where matches {
                    for sx in 0 ..< stamp.width where image[x: x + sx, y: y + sy] != stamp[x: sx, y: sy] {
                        matches = false
                        break
                    }
                }
                if matches { found.append((x, y)) }
            }
        }
        return found
    }

    // MARK: Fixtures

    /// A model whose weight for class k at pixel p is `weight(k, p)`; bias zero.
    private static func model(_ weight: (Int, Int) -> Float) -> SoftmaxModel {
        let weights = (0 ..< 10).flatMap { k in (0 ..< 784).map { p in weight(k, p) } }
        return SoftmaxModel(weights: weights, bias: [Float](repeating: 0, count: 10))
    }

    /// Deterministic, poorly compressible pixels.
    private static func noiseImage(width: Int, height: Int) -> RGBImage {
        var state: UInt32 = 0x1234_5678
        let pixels = (0 ..< width * height * 3).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return RGBImage(width: width, height: height, pixels: pixels)!
    }

    private static func bytes(of path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private static func withTemporaryDirectory(_ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("png-export-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }
}
