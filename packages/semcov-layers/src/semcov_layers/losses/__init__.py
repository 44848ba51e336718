"""Losses: the SemCovNet objective (DVA, CDI, joint) and the baselines of the paper's tables."""

from .asymmetric import AsymmetricLoss, asymmetric_loss
from .cdi import (
    CDIRegularizer,
    cdi_regularizer,
    coverage_error_correlation,
    scg_recall_sums,
    true_class_probability,
)
from .class_balanced import (
    ClassBalancedLoss,
    class_balanced_loss,
    effective_number_class_weights,
)
from .dva import DVALoss, dva_loss
from .group_dro import GroupDROLoss, group_dro_loss, group_losses
from .nir import NIRRegularizer, nir_regularizer
from .semantic_scale import (
    SemanticScaleBalancedLoss,
    class_semantic_scale,
    semantic_scale_weights,
)
from .semcov import SemCovLoss, SemCovLossOutput, semcov_loss

__all__ = [
    "AsymmetricLoss",
    "CDIRegularizer",
    "ClassBalancedLoss",
    "DVALoss",
    "GroupDROLoss",
    "NIRRegularizer",
    "SemCovLoss",
    "SemCovLossOutput",
    "SemanticScaleBalancedLoss",
    "asymmetric_loss",
    "cdi_regularizer",
    "class_balanced_loss",
    "class_semantic_scale",
    "coverage_error_correlation",
    "dva_loss",
    "effective_number_class_weights",
    "group_dro_loss",
    "group_losses",
    "nir_regularizer",
    "scg_recall_sums",
    "semantic_scale_weights",
    "semcov_loss",
    "true_class_probability",
]
