/// A line chart drawn as standalone SVG markup: a title, horizontal grid lines at the y ticks,
/// tick labels on both axes, axis titles, one polyline per series (with a marker per point when
/// there are few) and a legend in a row beside the title, where it never covers a line. No script, no external font or stylesheet.
///
/// Both axes use `AxisScale`; x is the entry number (epoch or iteration) with whole-number
/// ticks. A point (x, y) is drawn at plotLeft + fraction(x)·plotWidth, plotBottom −
/// fraction(y)·plotHeight, rounded to 0.1 pixel.
public struct LineChart: Sendable {
    /// One line: a name for the legend, a colour (any CSS colour) and one y per x.
    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var values: [Double]

        public init(name: String, color: String, values: [Double]) {
            self.name = name
            self.color = color
            self.values = values
        }
    }

    public var title: String
    public var xTitle: String
    public var yTitle: String
    /// The x of every point, shared by all series.
    public var x: [Int]
    public var series: [Series]
    /// Appended to each y tick label: "%" for percentages.
    public var yUnit: String

    public static let width = 560
    public static let height = 330
    /// The plot area's margins inside the picture: room for the title, tick labels and axis titles.
    static let (marginLeft, marginRight, marginTop, marginBottom) = (72, 20, 40, 54)
    /// Series with at most this many points get a marker on every point.
    static let markerLimit = 60

    /// A chart of `series` over `x`. Every series has `x.count` finite values, and x is not empty.
    public init(title: String, xTitle: String, yTitle: String, x: [Int], series: [Series], yUnit: String = "") {
        precondition(
            !x.isEmpty && series.allSatisfy { $0.values.count == x.count && $0.values.allSatisfy(\.isFinite) },
            "every series has one finite value per x")
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.x = x
        self.series = series
        self.yUnit = yUnit
    }

    /// The x axis: whole-number ticks covering the entries.
    public var xScale: AxisScale {
        AxisScale(covering: Double(x.min()!), Double(x.max()!), targetTickCount: 6, integerSteps: true)
    }

    /// The y axis: covering every value of every series.
    public var yScale: AxisScale {
        let values = series.flatMap(\.values)
        return AxisScale(covering: values.min() ?? 0, values.max() ?? 1, targetTickCount: 6)
    }

    /// The SVG document, `width` × `height` user units, scalable by CSS.
    public var svg: String {
        let (xScale, yScale) = (self.xScale, self.yScale)
        let plotLeft = Double(Self.marginLeft), plotTop = Double(Self.marginTop)
        let plotWidth = Double(Self.width - Self.marginLeft - Self.marginRight)
        let plotHeight = Double(Self.height - Self.marginTop - Self.marginBottom)
        let plotBottom = plotTop + plotHeight
        func px(_ value: Double) -> Double { plotLeft + xScale.fraction(value) * plotWidth }
        func py(_ value: Double) -> Double { plotBottom - yScale.fraction(value) * plotHeight }
        func n(_ value: Double) -> String { Self.coordinate(value) }
        let e = HTMLText.escape

        var lines: [String] = []
        lines.append(
            ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(Self.width) \##(Self.height)" width="\##(Self.width)" height="\##(Self.height)" role="img" aria-label="\##(e(title))" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="13">"##
        )
        lines.append("<title>\(e(title))</title>")
        lines.append(##"<rect width="\##(Self.width)" height="\##(Self.height)" fill="#fff"/>"##)
        lines.append(
            ##"<text x="\##(n(plotLeft))" y="22" font-size="15" font-weight="600" fill="#222">\##(e(title))</text>"##)
        // Grid and y tick labels.
        for tick in yScale.ticks {
            let y = py(tick)
            lines.append(
                ##"<line x1="\##(n(plotLeft))" y1="\##(n(y))" x2="\##(n(plotLeft + plotWidth))" y2="\##(n(y))" stroke="#e3e3e3"/>"##
            )
            lines.append(
                ##"<text x="\##(n(plotLeft - 8))" y="\##(n(y + 4))" text-anchor="end" fill="#444">\##(e(yScale.label(tick) + yUnit))</text>"##
            )
        }
        // x ticks and labels.
        for tick in xScale.ticks {
            let x = px(tick)
            lines.append(
                ##"<line x1="\##(n(x))" y1="\##(n(plotBottom))" x2="\##(n(x))" y2="\##(n(plotBottom + 5))" stroke="#666"/>"##
            )
            lines.append(
                ##"<text x="\##(n(x))" y="\##(n(plotBottom + 20))" text-anchor="middle" fill="#444">\##(e(xScale.label(tick)))</text>"##
            )
        }
        // Axes.
        lines.append(
            ##"<path d="M\##(n(plotLeft)) \##(n(plotTop))V\##(n(plotBottom))H\##(n(plotLeft + plotWidth))" fill="none" stroke="#666"/>"##
        )
        lines.append(
            ##"<text x="\##(n(plotLeft + plotWidth / 2))" y="\##(Self.height - 10)" text-anchor="middle" fill="#222">\##(e(xTitle))</text>"##
        )
        lines.append(
            ##"<text transform="translate(18 \##(n(plotTop + plotHeight / 2))) rotate(-90)" text-anchor="middle" fill="#222">\##(e(yTitle))</text>"##
        )
        // Series.
        for line in series {
            let points = zip(x, line.values).map { "\(n(px(Double($0)))),\(n(py($1)))" }
            lines.append(
                ##"<polyline class="series" data-name="\##(e(line.name))" points="\##(points.joined(separator: " "))" fill="none" stroke="\##(e(line.color))" stroke-width="2" stroke-linejoin="round"/>"##
            )
            if x.count <= Self.markerLimit {
                for (entry, value) in zip(x, line.values) {
                    lines.append(
                        ##"<circle cx="\##(n(px(Double(entry))))" cy="\##(n(py(value)))" r="3" fill="\##(e(line.color))"><title>\##(e("\(line.name), \(xTitle) \(entry): \(Self.valueText(value))\(yUnit)"))</title></circle>"##
                    )
                }
            }
        }
        // Legend: one swatch and name per series, in a row at the top right, beside the title.
        var legendRight = plotLeft + plotWidth
        for line in series.reversed() {
            let itemWidth = 30 + Double(line.name.count) * 7.5
            let left = legendRight - itemWidth
            lines.append(
                ##"<line x1="\##(n(left))" y1="18" x2="\##(n(left + 22))" y2="18" stroke="\##(e(line.color))" stroke-width="3"/>"##
            )
            lines.append(##"<text x="\##(n(left + 28))" y="22" fill="#222">\##(e(line.name))</text>"##)
            legendRight = left - 14
        }
        lines.append("</svg>")
        return lines.joined(separator: "\n")
    }

    /// A coordinate rounded to 0.1 unit, without a trailing ".0".
    static func coordinate(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return tenths % 10 == 0 ? String(tenths / 10) : formatted("%.1f", Double(tenths) / 10)
    }

    /// A value for a tooltip: four significant digits.
    static func valueText(_ value: Double) -> String {
        formatted("%.4g", value)
    }
}
