/// A 5×7 pixel font, defined here, for the text in the pictures the app draws: digits,
/// A–Z (lower case is drawn as upper case), space and `. , : - + % / ( ) = | ? →`. Any other
/// character is drawn as `?`.
///
/// Each glyph is 5 columns × 7 rows; characters advance by 6 columns (one blank column between
/// them), so a string of n characters is 6n − 1 pixels wide and 7 high, times `scale`.
public enum BitmapFont {
    public static let glyphWidth = 5
    public static let glyphHeight = 7
    /// Columns from one character's left edge to the next: the glyph and one blank column.
    public static let advance = 6

    /// The width in pixels of `text` drawn at `scale`: (6n − 1)·scale for n characters, 0 for none.
    public static func width(of text: String, scale: Int = 1) -> Int {
        text.isEmpty ? 0 : (advance * text.count - 1) * scale
    }

    /// The height in pixels of one line at `scale`: 7·scale.
    public static func height(scale: Int = 1) -> Int { glyphHeight * scale }

    /// Rows of the glyph of `character`, top first; bit 4 of a row is the leftmost column.
    static func rows(of character: Character) -> [UInt8] {
        let upper = Character(character.uppercased())
        return glyphs[upper] ?? glyphs["?"]!
    }

    private static let glyphs: [Character: [UInt8]] = {
        var table: [Character: [UInt8]] = [:]
        for (character, picture) in pictures {
            let rows = picture.split(separator: " ").map { row in
                row.reduce(UInt8(0)) { bits, pixel in bits << 1 | (pixel == "#" ? 1 : 0) }
            }
            precondition(rows.count == glyphHeight, "glyph \(character) needs \(glyphHeight) rows")
            table[character] = rows
        }
        return table
    }()

    /// Each glyph as 7 rows of 5 pixels, top first, `#` ink and `.` blank.
    private static let pictures: [(Character, String)] = [
        ("0", ".###. #...# #..## #.#.# ##..# #...# .###."),
        ("1", "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("2", ".###. #...# ....# ...#. ..#.. .#... #####"),
        ("3", "##### ...#. ..#.. ...#. ....# #...# .###."),
        ("4", "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
        ("5", "##### #.... ####. ....# ....# #...# .###."),
        ("6", "..##. .#... #.... ####. #...# #...# .###."),
        ("7", "##### ....# ...#. ..#.. .#... .#... .#..."),
        ("8", ".###. #...# #...# .###. #...# #...# .###."),
        ("9", ".###. #...# #...# .#### ....# ...#. .##.."),
        ("A", ".###. #...# #...# ##### #...# #...# #...#"),
        ("B", "####. #...# #...# ####. #...# #...# ####."),
        ("C", ".###. #...# #.... #.... #.... #...# .###."),
        ("D", "###.. #..#. #...# #...# #...# #..#. ###.."),
        ("E", "##### #.... #.... ####. #.... #.... #####"),
        ("F", "##### #.... #.... ####. #.... #.... #...."),
        ("G", ".###. #...# #.... #.### #...# #...# .####"),
        ("H", "#...# #...# #...# ##### #...# #...# #...#"),
        ("I", ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
        ("J", "..### ...#. ...#. ...#. ...#. #..#. .##.."),
        ("K", "#...# #..#. #.#.. ##... #.#.. #..#. #...#"),
        ("L", "#.... #.... #.... #.... #.... #.... #####"),
        ("M", "#...# ##.## #.#.# #.#.# #...# #...# #...#"),
        ("N", "#...# #...# ##..# #.#.# #..## #...# #...#"),
        ("O", ".###. #...# #...# #...# #...# #...# .###."),
        ("P", "####. #...# #...# ####. #.... #.... #...."),
        ("Q", ".###. #...# #...# #...# #.#.# #..#. .##.#"),
        ("R", "####. #...# #...# ####. #.#.. #..#. #...#"),
        ("S", ".#### #.... #.... .###. ....# ....# ####."),
        ("T", "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("U", "#...# #...# #...# #...# #...# #...# .###."),
        ("V", "#...# #...# #...# #...# #...# .#.#. ..#.."),
        ("W", "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."),
        ("X", "#...# #...# .#.#. ..#.. .#.#. #...# #...#"),
        ("Y", "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."),
        ("Z", "##### ....# ...#. ..#.. .#... #.... #####"),
        (" ", "..... ..... ..... ..... ..... ..... ....."),
        (".", "..... ..... ..... ..... ..... .##.. .##.."),
        (",", "..... ..... ..... ..... .##.. ..#.. .#..."),
        (":", "..... .##.. .##.. ..... .##.. .##.. ....."),
        ("-", "..... ..... ..... ##### ..... ..... ....."),
        ("+", "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
        ("%", "##... ##..# ...#. ..#.. .#... #..## ...##"),
        ("/", "..... ....# ...#. ..#.. .#... #.... ....."),
        ("(", "...#. ..#.. .#... .#... .#... ..#.. ...#."),
        (")", ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
        ("=", "..... ..... ##### ..... ##### ..... ....."),
        ("|", "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."),
        ("?", ".###. #...# ....# ...#. ..#.. ..... ..#.."),
        ("→", "..... ..#.. ...#. ##### ...#. ..#.. ....."),
    ]
}

extension RGBImage {
    /// Paints the rectangle of `width` × `height` pixels whose top-left corner is (x, y) in
    /// `color`; the parts outside the image are skipped.
    public mutating func fill(x: Int, y: Int, width rectangleWidth: Int, height rectangleHeight: Int, color: RGBColor) {
        let (left, right) = (max(x, 0), min(x + rectangleWidth, width))
        let (top, bottom) = (max(y, 0), min(y + rectangleHeight, height))
        guard left < right && top < bottom else { return }
        for row in top ..< bottom {
            for column in left ..< right {
                self[x: column, y: row] = color
            }
        }
    }

    /// Draws `text` in `BitmapFont` with its top-left corner at (x, y), each font pixel a
    /// `scale` × `scale` square of `color`; only ink is painted, and ink outside the image is skipped.
    public mutating func draw(_ text: String, x: Int, y: Int, scale: Int = 1, color: RGBColor) {
        for (index, character) in text.enumerated() {
            let left = x + index * BitmapFont.advance * scale
            for (row, bits) in BitmapFont.rows(of: character).enumerated() {
                for column in 0 ..< BitmapFont.glyphWidth where bits & (1 << (BitmapFont.glyphWidth - 1 - column)) != 0
                {
                    fill(x: left + column * scale, y: y + row * scale, width: scale, height: scale, color: color)
                }
            }
        }
    }

    /// Draws `text` centred horizontally on `centerX`, with its top at `y`.
    public mutating func draw(_ text: String, centeredAt centerX: Int, y: Int, scale: Int = 1, color: RGBColor) {
        draw(text, x: centerX - BitmapFont.width(of: text, scale: scale) / 2, y: y, scale: scale, color: color)
    }
}
