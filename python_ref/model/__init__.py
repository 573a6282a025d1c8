"""Float PyTorch model of the M3ViT backbone (the golden reference), its weights, input images and
versioned golden vectors. See docs/model.md."""
from .float_model import M3ViT, ModelInputError, capture_shapes, parameter_name, top_k_lowest_index
from .golden import FORMAT_VERSION, Golden, GoldenError, golden_path, read_golden, write_golden
from .images import ImageError, InputImage, load_image
from .weights import (MissingExpertWeights, WeightSet, WeightsError, default_weights_dir, load_edge_moe_weights,
                      seeded_weights, tensor_shapes, weights_available)

__all__ = [
    "M3ViT", "ModelInputError", "capture_shapes", "parameter_name", "top_k_lowest_index",
    "FORMAT_VERSION", "Golden", "GoldenError", "golden_path", "read_golden", "write_golden",
    "ImageError", "InputImage", "load_image",
    "MissingExpertWeights", "WeightSet", "WeightsError", "default_weights_dir", "load_edge_moe_weights",
    "seeded_weights", "tensor_shapes", "weights_available",
]
