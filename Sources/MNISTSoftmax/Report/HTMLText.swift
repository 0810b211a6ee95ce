/// Text made safe for HTML and SVG (XML) markup.
public enum HTMLText {
    /// `text` with & < > " ' replaced by their character references, so that it can stand in
    /// element content and in quoted attribute values alike.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
