"""IDX files for the Python checks (onnx_test.py, interop_test.py): NAME or NAME.gz → numpy."""
import gzip
import os

import numpy as np


def read_idx(directory, name):
    """IDX bytes → (numpy array of u8 shaped by the header's dimensions, the path read), from NAME or NAME.gz."""
    for candidate, opener in ((name, open), (name + ".gz", gzip.open)):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            with opener(path, "rb") as handle:
                raw = handle.read()
            ndims = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndims)]
            return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims), path
    raise FileNotFoundError(f"{directory}: no {name}[.gz]")
