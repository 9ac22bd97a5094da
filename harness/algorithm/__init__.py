"""The AWS API side: validating a CreateAlgorithm request against botocore's SageMaker model."""
