"""A plan profile expressed as the API's TrainingJobDefinition / TransformJobDefinition.

`harness validate PLAN` checks each profile against the algorithm with the very rules that apply
to the request's ValidationProfile, and `harness spec` builds the ValidationProfile from the same
translation, so the local run and the submitted request cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.plan import ChannelPlan, ProfilePlan, TransformPlan

ChannelUri = Callable[[ChannelPlan], str]


def training_job_definition(
    profile: ProfilePlan,
    instance_type: str,
    channel_uri: ChannelUri,
    output_uri: str,
    volume_size_gb: int = 1,
) -> dict[str, Any]:
    training = profile.training
    channels: list[dict[str, Any]] = []
    for channel in training.channels:
        entry: dict[str, Any] = {
            "ChannelName": channel.name,
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": channel_uri(channel),
                    "S3DataDistributionType": channel.distribution,
                }
            },
            "CompressionType": channel.compression,
            "RecordWrapperType": channel.record_wrapper,
        }
        if channel.content_type is not None:
            entry["ContentType"] = channel.content_type
        if channel.input_mode is not None:
            entry["InputMode"] = channel.input_mode
        channels.append(entry)
    return {
        "TrainingInputMode": training.input_mode,
        "HyperParameters": training.hyperparameter_map,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": output_uri},
        "ResourceConfig": {
            "InstanceType": instance_type,
            "InstanceCount": training.instance_count,
            "VolumeSizeInGB": volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": training.max_runtime_seconds},
    }


def transform_job_definition(
    transform: TransformPlan, instance_type: str, input_uri: str, output_uri: str
) -> dict[str, Any]:
    transform_input: dict[str, Any] = {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
        "SplitType": transform.split_type,
        "CompressionType": transform.compression,
    }
    if transform.content_type is not None:
        transform_input["ContentType"] = transform.content_type
    transform_output: dict[str, Any] = {
        "S3OutputPath": output_uri,
        "AssembleWith": transform.assemble_with,
    }
    if transform.accept is not None:
        transform_output["Accept"] = transform.accept
    definition: dict[str, Any] = {
        "TransformInput": transform_input,
        "TransformOutput": transform_output,
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": 1},
    }
    if transform.max_concurrent_transforms is not None:
        definition["MaxConcurrentTransforms"] = transform.max_concurrent_transforms
    if transform.max_payload_mb is not None:
        definition["MaxPayloadInMB"] = transform.max_payload_mb
    if transform.batch_strategy is not None:
        definition["BatchStrategy"] = transform.batch_strategy
    return definition
