/// A minimal SVG writer: elements are appended as text in drawing order, every number is written
/// with fixed decimals (`Number.fixed`), so the same data gives the same bytes on every platform.
///
/// Ids are prefixed with the chart's name: the page inlines many charts into one document, where an
/// id must be unique.
struct SVG {
    let width: Double
    /// Known once the chart is laid out: set before reading `text`.
    var height: Double
    let id: String
    private var elements: [String] = []

    init(width: Double, height: Double, id: String) {
        self.width = width
        self.height = height
        self.id = id
    }

    /// The document on a white background, one element per line, without an XML declaration (the
    /// same text works inline in HTML).
    var text: String {
        let open = SVG.open("svg", [("xmlns", "http://www.w3.org/2000/svg"), ("width", SVG.number(width)), ("height", SVG.number(height)),
                                   ("viewBox", "0 0 \(SVG.number(width)) \(SVG.number(height))"), ("font-family", "Helvetica, Arial, sans-serif"),
                                   ("font-size", "12"), ("id", id)])
        let background = SVG.tag("rect", [("width", "100%"), ("height", "100%"), ("fill", "white")])
        return ([open, background] + elements + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    mutating func add(_ element: String) { elements.append(element) }

    /// `<name a="…">content</name>`, or self-closing without content; attributes in the given order.
    static func tag(_ name: String, _ attributes: [(String, String)], content: String? = nil) -> String {
        guard let content else { return "<\(name)\(attributeText(attributes))/>" }
        return "<\(name)\(attributeText(attributes))>\(content)</\(name)>"
    }

    /// An opening tag; the caller closes it.
    static func open(_ name: String, _ attributes: [(String, String)]) -> String { "<\(name)\(attributeText(attributes))>" }

    static func attributeText(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    /// `value` with at most `digits` decimals, trailing zeros dropped.
    static func number(_ value: Double, digits: Int = 2) -> String {
        let text = Number.fixed(value, digits)
        guard text.contains(".") else { return text }
        let trimmed = text.reversed().drop { $0 == "0" }.drop { $0 == "." }
        return String(trimmed.reversed())
    }

    /// Text and attribute values as XML character data.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ attributes: [(String, String)]) {
        add(SVG.tag("line", [("x1", SVG.number(x1)), ("y1", SVG.number(y1)), ("x2", SVG.number(x2)), ("y2", SVG.number(y2))] + attributes))
    }

    mutating func rect(_ x: Double, _ y: Double, _ width: Double, _ height: Double, _ attributes: [(String, String)]) {
        add(SVG.tag("rect", [("x", SVG.number(x)), ("y", SVG.number(y)), ("width", SVG.number(max(width, 0))),
                             ("height", SVG.number(max(height, 0)))] + attributes))
    }

    mutating func text(_ x: Double, _ y: Double, _ content: String, anchor: String = "start", size: Double = 12,
                       _ attributes: [(String, String)] = []) {
        var base = [("x", SVG.number(x)), ("y", SVG.number(y))]
        if anchor != "start" { base.append(("text-anchor", anchor)) }
        if size != 12 { base.append(("font-size", SVG.number(size))) }
        add(SVG.tag("text", base + attributes, content: SVG.escape(content)))
    }

    mutating func polyline(_ points: [(x: Double, y: Double)], _ attributes: [(String, String)]) {
        add(SVG.tag("polyline", [("points", SVG.points(points)), ("fill", "none")] + attributes))
    }

    static func points(_ points: [(x: Double, y: Double)]) -> String {
        points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
    }

    /// Wraps the elements `body` adds in a group.
    mutating func group(_ attributes: [(String, String)], _ body: (inout SVG) -> Void) {
        add(SVG.open("g", attributes))
        body(&self)
        add("</g>")
    }
}
