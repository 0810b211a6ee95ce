import FoundationEssentials

/// The one way JSON is written and read in this package: `Codable` types through `encoder` and
/// `decoder`.
///
/// Keys are the snake_case of the property names (`lossFunction` → `loss_function`), both ways;
/// dictionary keys are written and read as they are. A type declares `CodingKeys` only where its
/// wire name is not the snake_case of a property, and then gives the raw value in camelCase
/// (`case trainingAccuracy = "trainAccuracy"` for `train_accuracy`), because the coders convert
/// raw values too. Output is one line with sorted keys and unescaped `/`: its bytes depend on
/// the value alone, which the model file's byte-identical header relies on.
public enum JSONCoding {
    /// snake_case keys, sorted, `/` unescaped, on one line. A new encoder each time, so that no
    /// caller's settings leak into another's.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Reads what `encoder` writes: snake_case keys to property names.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// `value` as `encoder` writes it, as text.
    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The name `key` has in the JSON text (`trainAccuracy` → `train_accuracy`), for error
    /// messages that name a key the way the file spells it.
    public static func wireName(of key: any CodingKey) -> String {
        guard key.intValue == nil, let data = try? encoder.encode(OneKey(name: key.stringValue)),
            let name = try? decoder.decode([String: Bool].self, from: data).keys.first
        else { return key.stringValue }
        return name
    }

    /// An object with the single key `name`, to learn what the encoder makes of it.
    private struct OneKey: Encodable {
        let name: String

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(true, forKey: Key(stringValue: name))
        }
    }
}
