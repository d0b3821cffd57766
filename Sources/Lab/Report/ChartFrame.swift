/// A finished chart: written to `charts/<name>.svg` and inlined in the page with its caption.
struct Chart {
    var name: String
    var title: String
    /// What is plotted and how seeds were combined (the page's figure caption; also the SVG's `<desc>`).
    var caption: String
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

    /// Closes the chart at `bottom`.
    static func finish(_ svg: SVG, name: String, title: String, caption: String, bottom: Double) -> Chart {
        var svg = svg
        svg.height = (bottom + margin).rounded(.up)
        return Chart(name: name, title: title, caption: caption, svg: svg.text)
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
            if let hatch { svg.rect(x + 6, y - 6, 18, 12, [("fill", "url(#\(svg.id)-hatch\(hatch))")]) }
        }
    }

    /// Grey bands over the plot for fault windows, numbered F1, F2, … just above the plot.
    static func faultBands(_ svg: inout SVG, _ plot: Plot, _ bands: [ReportData.Window]) {
        for (index, band) in bands.enumerated() {
            let x1 = plot.px(band.start / 1000), x2 = plot.px(band.end / 1000)
            svg.rect(x1, plot.top, x2 - x1, plot.height, [("fill", Ink.faultBand), ("fill-opacity", "0.35"), ("class", "fault")])
            svg.text(x1 + 1, plot.top - 3, "F\(index + 1)", size: 10, [("fill", Ink.axis)])
        }
    }

    static let bandsListed = 8

    /// The key to the bands: "F1 10–20 s: partition …", at most `bandsListed` lines.
    static func faultKey(_ svg: inout SVG, _ bands: [ReportData.Window], top: Double) -> Double {
        var y = top
        for (index, band) in bands.prefix(bandsListed).enumerated() {
            y += 14
            let text = "F\(index + 1) \(seconds(band.start))–\(seconds(band.end)) s: \(band.faults)"
            svg.text(plotLeft, y, text.count > 110 ? String(text.prefix(109)) + "…" : text, size: 10, [("fill", Ink.axis)])
        }
        if bands.count > bandsListed {
            y += 14
            svg.text(plotLeft, y, "… and \(bands.count - bandsListed) more fault windows (faults.csv)", size: 10, [("fill", Ink.axis)])
        }
        return y
    }

    static func seconds(_ milliseconds: Double) -> String { SVG.number(milliseconds / 1000, digits: 3) }

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
