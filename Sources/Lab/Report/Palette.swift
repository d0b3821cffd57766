/// How series are told apart: colour-blind-safe colours — the Okabe–Ito palette (Okabe & Ito,
/// "Color Universal Design", 2008), then Paul Tol's "muted" scheme (Tol, "Colour Schemes", SRON
/// 2021) — and, because a printout may be grey, a dash pattern and a marker per line and a hatch
/// pattern per bar. Series `i` gets colour `i mod 17`, dash `i mod 7`, marker `i mod 6` and hatch
/// `i mod 7`: the first 17 series have colours of their own, and no two series share colour and
/// dash (or colour and hatch) before the 119th.
struct SeriesStyle {
    enum Marker: CaseIterable { case circle, square, triangle, diamond, down, cross }

    /// Okabe–Ito, ordered for lines on white (yellow, the faintest, last), then Tol's muted.
    static let colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
                          "#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499"]
    /// Colours too dark for a black hatch to show on: theirs is drawn in white.
    static let dark: Set<String> = ["#000000", "#332288", "#117733", "#882255"]
    static let dashes = ["", "6 3", "2 2", "8 3 2 3", "1 3", "10 4", "4 2 1 2 1 2"]
    /// Path of each hatch in an 8 × 8 tile: solid, /, \, horizontal, vertical, cross-hatch, dots.
    static let hatches = ["", "M0,8L8,0", "M0,0L8,8", "M0,4L8,4", "M4,0L4,8", "M0,8L8,0M0,0L8,8", "M2,2h0.1M6,6h0.1"]
    /// Cross-hatch: the hatch of "down" in role timelines.
    static let crossHatch = 5

    let index: Int
    var colour: String { Self.colours[index % Self.colours.count] }
    var dash: String { Self.dashes[index % Self.dashes.count] }
    var marker: Marker { Marker.allCases[index % Marker.allCases.count] }
    var hatch: Int { index % Self.hatches.count }

    /// Stroke attributes of the series' line.
    var lineAttributes: [(String, String)] {
        var attributes = [("stroke", colour), ("stroke-width", "1.8"), ("stroke-linejoin", "round")]
        if !dash.isEmpty { attributes.append(("stroke-dasharray", dash)) }
        return attributes
    }

    /// The series' marker centred at (x, y): open shapes in the series colour.
    func markerElement(_ x: Double, _ y: Double) -> String {
        let r = 3.5, n = { (value: Double) in SVG.number(value) }
        let stroke: [(String, String)] = [("fill", "white"), ("stroke", colour), ("stroke-width", "1.4")]
        switch marker {
        case .circle:
            return SVG.tag("circle", [("cx", n(x)), ("cy", n(y)), ("r", n(r))] + stroke)
        case .square:
            return SVG.tag("rect", [("x", n(x - r)), ("y", n(y - r)), ("width", n(2 * r)), ("height", n(2 * r))] + stroke)
        case .triangle:
            return SVG.tag("polygon", [("points", SVG.points([(x, y - r - 0.5), (x + r, y + r), (x - r, y + r)]))] + stroke)
        case .diamond:
            return SVG.tag("polygon", [("points", SVG.points([(x, y - r - 0.7), (x + r + 0.7, y), (x, y + r + 0.7), (x - r - 0.7, y)]))] + stroke)
        case .down:
            return SVG.tag("polygon", [("points", SVG.points([(x, y + r + 0.5), (x + r, y - r), (x - r, y - r)]))] + stroke)
        case .cross:
            return SVG.tag("path", [("d", "M\(n(x - r)),\(n(y - r))L\(n(x + r)),\(n(y + r))M\(n(x - r)),\(n(y + r))L\(n(x + r)),\(n(y - r))"),
                                    ("stroke", colour), ("stroke-width", "1.6")])
        }
    }

    /// `<defs>` with the hatch patterns (thin strokes, legible in grey), black and white, once per chart.
    static func hatchDefinitions(_ svg: SVG) -> String {
        let patterns = [(false, "black"), (true, "white")].flatMap { light, stroke in
            hatches.enumerated().map { index, d in
                SVG.tag("pattern", [("id", patternID(index, light: light, in: svg)), ("width", "8"), ("height", "8"), ("patternUnits", "userSpaceOnUse")],
                        content: d.isEmpty ? "" : SVG.tag("path", [("d", d), ("stroke", stroke), ("stroke-width", index == 6 ? "2.2" : "1"),
                                                                    ("stroke-linecap", "round"), ("stroke-opacity", "0.7")]))
            }
        }
        return "<defs>" + patterns.joined() + "</defs>"
    }

    private static func patternID(_ hatch: Int, light: Bool, in svg: SVG) -> String { "\(svg.id)-hatch\(light ? "-light" : "")\(hatch)" }

    /// The fill that draws hatch `hatch` of this chart's definitions (in white over a dark colour).
    static func hatchFill(_ hatch: Int, light: Bool = false, in svg: SVG) -> String { "url(#\(patternID(hatch, light: light, in: svg)))" }

    /// A filled rectangle: colour, hatch on top, thin dark outline.
    func bar(_ svg: inout SVG, _ x: Double, _ y: Double, _ width: Double, _ height: Double) {
        svg.rect(x, y, width, height, [("fill", colour)])
        if hatch != 0 { svg.rect(x, y, width, height, [("fill", Self.hatchFill(hatch, light: Self.dark.contains(colour), in: svg))]) }
        svg.rect(x, y, width, height, [("fill", "none"), ("stroke", Ink.axis), ("stroke-width", "0.6")])
    }
}

/// Shared greys for axes, grids and fault bands.
enum Ink {
    static let axis = "#333333"
    static let grid = "#DDDDDD"
    static let faultBand = "#BBBBBB"
    static let note = "#555555"
}
