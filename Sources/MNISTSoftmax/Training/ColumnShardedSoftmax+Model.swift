import MNISTKernels

extension ColumnShardedSoftmax {
    /// The current parameters as a model. Setting it keeps the velocity.
    var model: SoftmaxModel {
        get { SoftmaxModel(weights: parameters.weights, bias: parameters.bias) }
        set { parameters = (newValue.weights, newValue.bias) }
    }

    /// The momentum velocity of W and b, in a model's shapes.
    var velocityModel: SoftmaxModel {
        get { SoftmaxModel(weights: velocity.weights, bias: velocity.bias) }
        set { velocity = (newValue.weights, newValue.bias) }
    }
}
