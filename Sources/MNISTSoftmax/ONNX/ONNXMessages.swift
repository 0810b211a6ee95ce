/// The subset of ONNX's protobuf schema (onnx/onnx.proto, proto2) that an exported model uses,
/// with its field numbers, and each message's serialisation through `ProtobufWriter`.
///
/// Fields left at their defaults are not written, as protobuf allows; repeated integers are
/// written unpacked, proto2's default for onnx.proto's `repeated int64 dims`.
public enum ONNX {
    /// TensorProto.DataType FLOAT: 32-bit IEEE 754.
    static let floatElementType: Int64 = 1

    /// ModelProto: the file's top-level message.
    public struct Model: Sendable {
        /// The IR (file format) version; 7 is that of ONNX 1.8, the release of opset 13.
        public var irVersion: Int64
        /// The operator sets the graph uses: (domain, version), "" being the default ai.onnx.
        public var operatorSets: [OperatorSet]
        public var producerName: String
        public var docString: String
        public var graph: Graph
        /// metadata_props: string pairs any reader can list (onnxruntime's custom_metadata_map).
        public var metadata: [(key: String, value: String)]

        public init(
            irVersion: Int64, operatorSets: [OperatorSet], producerName: String, docString: String, graph: Graph,
            metadata: [(key: String, value: String)]
        ) {
            self.irVersion = irVersion
            self.operatorSets = operatorSets
            self.producerName = producerName
            self.docString = docString
            self.graph = graph
            self.metadata = metadata
        }

        /// The bytes of a .onnx file.
        public func serialized() -> [UInt8] {
            var writer = ProtobufWriter()
            writer.writeInteger(1, irVersion)
            writer.writeString(2, producerName)
            if !docString.isEmpty { writer.writeString(6, docString) }
            writer.writeMessage(7) { graph.encode(into: &$0) }
            for operatorSet in operatorSets {
                writer.writeMessage(8) { operatorSet.encode(into: &$0) }
            }
            for entry in metadata {
                // StringStringEntryProto
                writer.writeMessage(14) {
                    $0.writeString(1, entry.key)
                    $0.writeString(2, entry.value)
                }
            }
            return writer.bytes
        }
    }

    /// OperatorSetIdProto.
    public struct OperatorSet: Equatable, Sendable {
        /// "" for the default domain, ai.onnx.
        public var domain: String
        public var version: Int64

        public init(domain: String, version: Int64) {
            self.domain = domain
            self.version = version
        }

        public func encode(into writer: inout ProtobufWriter) {
            if !domain.isEmpty { writer.writeString(1, domain) }
            writer.writeInteger(2, version)
        }
    }

    /// GraphProto: nodes in topological order, the constant tensors, and the typed inputs and
    /// outputs.
    public struct Graph: Equatable, Sendable {
        public var name: String
        public var nodes: [Node]
        public var initializers: [Tensor]
        public var inputs: [ValueInfo]
        public var outputs: [ValueInfo]

        public init(name: String, nodes: [Node], initializers: [Tensor], inputs: [ValueInfo], outputs: [ValueInfo]) {
            self.name = name
            self.nodes = nodes
            self.initializers = initializers
            self.inputs = inputs
            self.outputs = outputs
        }

        public func encode(into writer: inout ProtobufWriter) {
            for node in nodes { writer.writeMessage(1) { node.encode(into: &$0) } }
            writer.writeString(2, name)
            for tensor in initializers { writer.writeMessage(5) { tensor.encode(into: &$0) } }
            for input in inputs { writer.writeMessage(11) { input.encode(into: &$0) } }
            for output in outputs { writer.writeMessage(12) { output.encode(into: &$0) } }
        }
    }

    /// NodeProto: one operator applied to named values.
    public struct Node: Equatable, Sendable {
        public var opType: String
        public var name: String
        public var inputs: [String]
        public var outputs: [String]
        public var attributes: [Attribute]

        public init(opType: String, name: String, inputs: [String], outputs: [String], attributes: [Attribute]) {
            self.opType = opType
            self.name = name
            self.inputs = inputs
            self.outputs = outputs
            self.attributes = attributes
        }

        public func encode(into writer: inout ProtobufWriter) {
            for input in inputs { writer.writeString(1, input) }
            for output in outputs { writer.writeString(2, output) }
            writer.writeString(3, name)
            writer.writeString(4, opType)
            for attribute in attributes { writer.writeMessage(5) { attribute.encode(into: &$0) } }
        }
    }

    /// AttributeProto holding one integer (type INT = 2, field `i`).
    public struct Attribute: Equatable, Sendable {
        public var name: String
        public var integer: Int64

        public init(name: String, integer: Int64) {
            self.name = name
            self.integer = integer
        }

        public func encode(into writer: inout ProtobufWriter) {
            writer.writeString(1, name)
            writer.writeInteger(3, integer)
            writer.writeInteger(20, 2)
        }
    }

    /// TensorProto of float32 values, stored as `raw_data`: little-endian, row-major.
    public struct Tensor: Equatable, Sendable {
        public var name: String
        public var dimensions: [Int64]
        public var values: [Float]

        public init(name: String, dimensions: [Int64], values: [Float]) {
            self.name = name
            self.dimensions = dimensions
            self.values = values
        }

        public func encode(into writer: inout ProtobufWriter) {
            for dimension in dimensions { writer.writeInteger(1, dimension) }
            writer.writeInteger(2, floatElementType)
            writer.writeString(8, name)
            var raw = [UInt8]()
            raw.reserveCapacity(values.count * 4)
            for value in values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { raw.append(contentsOf: $0) }
            }
            writer.writeBytes(9, raw)
        }
    }

    /// One axis of a tensor type: a fixed size, or a symbolic name (dynamic, like a batch size).
    public enum Dimension: Equatable, Sendable {
        case size(Int64)
        case symbol(String)
    }

    /// ValueInfoProto of a float32 tensor: TypeProto { tensor_type: { elem_type, shape } }.
    public struct ValueInfo: Equatable, Sendable {
        public var name: String
        public var shape: [Dimension]

        public init(name: String, shape: [Dimension]) {
            self.name = name
            self.shape = shape
        }

        public func encode(into writer: inout ProtobufWriter) {
            writer.writeString(1, name)
            writer.writeMessage(2) { type in  // TypeProto
                type.writeMessage(1) { tensor in  // TypeProto.Tensor
                    tensor.writeInteger(1, floatElementType)
                    tensor.writeMessage(2) { shape in  // TensorShapeProto
                        for dimension in self.shape {
                            shape.writeMessage(1) {  // TensorShapeProto.Dimension
                                switch dimension {
                                case .size(let size): $0.writeInteger(1, size)
                                case .symbol(let name): $0.writeString(2, name)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
