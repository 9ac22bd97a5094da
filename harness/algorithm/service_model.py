"""botocore's SageMaker service model: the one source of limits, patterns and enums.

Nothing here is copied by hand from the API reference; a newer botocore brings new instance
types and limits with it. The model is loaded once per process (about 0.3 s with the import).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.model import ServiceModel, StructureShape


@cache
def sagemaker_model() -> ServiceModel:
    import botocore.session  # deferred: importing botocore costs ~0.2 s, `harness --help` none

    return botocore.session.get_session().get_service_model("sagemaker")


def botocore_version() -> str:
    import botocore

    return str(botocore.__version__)


def create_algorithm_input() -> StructureShape:
    shape = sagemaker_model().operation_model("CreateAlgorithm").input_shape
    assert shape is not None  # CreateAlgorithm always has an input
    return shape


def enum_values(shape_name: str) -> tuple[str, ...]:
    """Allowed values of an enum string shape, e.g. `TrainingInstanceType`."""
    shape = sagemaker_model().shape_for(shape_name)
    return tuple(getattr(shape, "enum", ()))
