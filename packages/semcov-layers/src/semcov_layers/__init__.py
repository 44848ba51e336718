"""semcov-layers: the SemCovNet building blocks as drop-in PyTorch modules (torch + einops only)."""

from .cross_attention import DescriptorCrossAttention
from .descriptor_map import (
    DescriptorEmbedding,
    SemanticDescriptorMap,
    fuse_descriptor_maps,
    normalize_descriptor_maps,
)
from .encoder import SemanticEncoder, SemanticEncoderLayer, SemanticEncoderOutput
from .encoder_options import SemanticEncoderOptions
from .factory import TimmFeatureExtractor, create_semcovnet
from .losses import (
    AsymmetricLoss,
    CDIRegularizer,
    ClassBalancedLoss,
    DVALoss,
    GroupDROLoss,
    NIRRegularizer,
    SemanticScaleBalancedLoss,
    SemCovLoss,
    SemCovLossOutput,
    asymmetric_loss,
    cdi_regularizer,
    class_balanced_loss,
    class_semantic_scale,
    dva_loss,
    effective_number_class_weights,
    group_dro_loss,
    nir_regularizer,
    semantic_scale_weights,
    semcov_loss,
)
from .modulation import (
    DescriptorAttentionModulation,
    descriptor_uncertainty,
    film,
    uncertainty_gate,
)
from .semcovnet import SemCovNet, SemCovNetOutput

__version__ = "0.2.0"

__all__ = [
    "AsymmetricLoss",
    "CDIRegularizer",
    "ClassBalancedLoss",
    "DVALoss",
    "DescriptorAttentionModulation",
    "DescriptorCrossAttention",
    "DescriptorEmbedding",
    "GroupDROLoss",
    "NIRRegularizer",
    "SemCovLoss",
    "SemCovLossOutput",
    "SemCovNet",
    "SemCovNetOutput",
    "SemanticDescriptorMap",
    "SemanticEncoder",
    "SemanticEncoderLayer",
    "SemanticEncoderOptions",
    "SemanticEncoderOutput",
    "SemanticScaleBalancedLoss",
    "TimmFeatureExtractor",
    "__version__",
    "asymmetric_loss",
    "cdi_regularizer",
    "class_balanced_loss",
    "class_semantic_scale",
    "create_semcovnet",
    "descriptor_uncertainty",
    "dva_loss",
    "effective_number_class_weights",
    "film",
    "fuse_descriptor_maps",
    "group_dro_loss",
    "nir_regularizer",
    "normalize_descriptor_maps",
    "semantic_scale_weights",
    "semcov_loss",
    "uncertainty_gate",
]
