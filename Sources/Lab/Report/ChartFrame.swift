/// A finished chart: written to `charts/<name>.svg` and inlined in the page. Its title is in the
/// SVG, and so is its caption (what is plotted, how seeds were combined), as `<desc>` and as text
/// under the plot, so the file says it all when it goes into another document.
struct Chart {
    var name: String
    var svg: String
}

/// One legend entry: a line sample (with marker), a filled swatch, or a grey band.
struct LegendEntry {
    enum Sample {
        case line(SeriesStyle)
        case swatch(SeriesStyle)
        /// A plain fill (fault window, node down, role without a series style).
        case fill(String, hatch: Int?)
    }

    var label: String
    var sample: Sample
}

/// The parts every chart shares: title, legend, fault bands and their key, the closing note.
/// Charts are `width` wide; each part takes a top and returns where the next may start.
enum ChartFrame {
    static let width = 720.0
    static let margin = 12.0
    /// Left edge of a plot: room for tick labels and the rotated axis title.
    static let plotLeft = 70.0
    static let plotTop = 36.0

    /// A new chart with its title, hatch patterns and description.
    static func start(_ name: String, title: String, caption: String, width: Double = width) -> SVG {
        var svg = SVG(width: width, height: 0, id: "chart-\(name)")
        svg.add(SVG.tag("title", [], content: SVG.escape(title)))
        svg.add(SVG.tag("desc", [], content: SVG.escape(caption)))
        svg.add(SeriesStyle.hatchDefinitions(svg))
        svg.text(margin, 20, title, size: 14, [("font-weight", "bold")])
        return svg
    }

    /// The plot of a one-panel chart: full width under the title.
    static func plot(x: Axis, y: Axis, height: Double = 240) -> Plot {
        Plot(left: plotLeft, top: plotTop, width: width - plotLeft - 20, height: height, x: x, y: y)
    }

    /// Markers drawn on a line: about ten, phased by series so that overlapping lines show theirs.
    static let markersPerLine = 10

    /// A series as polylines broken at gaps (nil values), with a marker every few points and on
    /// every point that stands alone, in a group that names the series.
    static func line(_ svg: inout SVG, _ plot: Plot, _ label: String, _ style: SeriesStyle, _ points: [(x: Double, y: Double?)]) {
        let step = max(1, (points.count + markersPerLine - 1) / markersPerLine), phase = style.index % step
        svg.group([("class", "series"), ("data-series", label)]) { svg in
            var segment: [(x: Double, y: Double)] = []
            func flush() {
                if segment.count > 1 { svg.polyline(segment, style.lineAttributes) }
                if segment.count == 1 { svg.add(style.markerElement(segment[0].x, segment[0].y)) }
                segment = []
            }
            for point in points {
                guard let value = point.y else { flush(); continue }
                segment.append((plot.px(point.x), plot.py(value)))
            }
            flush()
            for (index, point) in points.enumerated() where index % step == phase {
                if let value = point.y { svg.add(style.markerElement(plot.px(point.x), plot.py(value))) }
            }
        }
    }

    /// Closes the chart at `bottom`.
    static func finish(_ svg: SVG, name: String, bottom: Double) -> Chart {
        var svg = svg
        svg.height = (bottom + margin).rounded(.up)
        return Chart(name: name, svg: svg.text)
    }

    /// Entries in rows, left to right; returns the bottom of the legend.
    static func legend(_ svg: inout SVG, _ entries: [LegendEntry], top: Double, left: Double = plotLeft) -> Double {
        var x = left, y = top + 10
        for entry in entries {
            let width = 38 + Double(entry.label.count) * 6.4 + 14
            if x + width > svg.width - margin, x > left { x = left; y += 18 }
            sample(&svg, entry.sample, x: x, y: y)
            svg.text(x + 38, y + 4, entry.label, size: 11)
            x += width
        }
        return entries.isEmpty ? top : y + 10
    }

    static func sample(_ svg: inout SVG, _ sample: LegendEntry.Sample, x: Double, y: Double) {
        switch sample {
        case .line(let style):
            svg.line(x, y, x + 30, y, style.lineAttributes)
            svg.add(style.markerElement(x + 15, y))
        case .swatch(let style):
            style.bar(&svg, x + 6, y - 6, 18, 12)
        case .fill(let colour, let hatch):
            svg.rect(x + 6, y - 6, 18, 12, [("fill", colour), ("stroke", Ink.axis), ("stroke-width", "0.6")])
            if let hatch { svg.rect(x + 6, y - 6, 18, 12, [("fill", SeriesStyle.hatchFill(hatch, in: svg))]) }
        }
    }

    /// The aggregation note under the chart, wrapped; returns its bottom.
    static func note(_ svg: inout SVG, _ text: String, top: Double) -> Double {
        var y = top
        for line in wrap(text, 115) {
            y += 13
            svg.text(margin, y, line, size: 10, [("fill", Ink.note)])
        }
        return y
    }

    /// Greedy word wrap at `limit` characters.
    static func wrap(_ text: String, _ limit: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > limit { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}

/// The fault windows a time chart shades: every seed's, each band as dark as the share of the
/// seeds that had it (with a fixed schedule every seed has the same windows, all fully shaded).
struct FaultBands {
    var windows: [ReportData.Window]
    /// Per window, the share of the seeds whose runs had it.
    var shares: [Double]
    var seeds: [UInt64]

    static let listed = 8
    static let opacity = 0.35
    /// Labels closer than this (px) to the previous one go on a second line.
    static let labelSpacing = 18.0

    /// The caption's sentence about the shading.
    var caption: String {
        guard !windows.isEmpty else { return "" }
        if seeds.count == 1 { return " Shaded: the fault windows of seed \(seeds[0]) (faults.csv)." }
        return shares.allSatisfy({ $0 == 1 }) ? " Shaded: the fault windows, the same in every seed (faults.csv)."
            : " Shaded: the fault windows of every seed, darker where more seeds had one (faults.csv)."
    }

    var legend: [LegendEntry] {
        guard !windows.isEmpty else { return [] }
        let label = seeds.count == 1 ? "fault window (seed \(seeds[0]))" : "fault window (every seed)"
        return [LegendEntry(label: label, sample: .fill(Ink.faultBand, hatch: nil))]
    }

    /// Grey bands over the plot, numbered F1, F2, … just above it; a label that would run into the
    /// one before it goes on a second line, inside the plot's top edge.
    func draw(_ svg: inout SVG, _ plot: Plot) {
        var lastLabel = [-Double.infinity, -Double.infinity]
        for (index, band) in windows.enumerated() {
            let x1 = plot.px(band.start / 1000), x2 = plot.px(band.end / 1000)
            svg.rect(x1, plot.top, x2 - x1, plot.height, [("fill", Ink.faultBand), ("fill-opacity", SVG.number(Self.opacity * shares[index], digits: 3)),
                                                          ("class", "fault")])
            let line = x1 - lastLabel[0] >= Self.labelSpacing ? 0 : x1 - lastLabel[1] >= Self.labelSpacing ? 1 : nil
            guard let line else { continue }
            lastLabel[line] = x1
            // A second line goes just inside the plot: above it there is only room for one below the title.
            svg.text(x1 + 1, line == 0 ? plot.top - 3 : plot.top + 10, "F\(index + 1)", size: 10, [("fill", Ink.axis)])
        }
    }

    /// The key to the bands, "F1 10–20 s: partition …", at most `listed` lines; returns its bottom.
    func key(_ svg: inout SVG, top: Double) -> Double {
        var y = top
        for (index, band) in windows.prefix(Self.listed).enumerated() {
            y += 14
            let text = "F\(index + 1) \(Self.seconds(band.start))–\(Self.seconds(band.end)) s: \(band.faults)"
            svg.text(ChartFrame.plotLeft, y, text.count > 110 ? String(text.prefix(109)) + "…" : text, size: 10, [("fill", Ink.axis)])
        }
        if windows.count > Self.listed {
            y += 14
            svg.text(ChartFrame.plotLeft, y, "… and \(windows.count - Self.listed) more fault windows (faults.csv)", size: 10, [("fill", Ink.axis)])
        }
        return y
    }

    static func seconds(_ milliseconds: Double) -> String { SVG.number(milliseconds / 1000, digits: 3) }
}
