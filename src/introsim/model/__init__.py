"""The model: state arrays, population draws, policies, compiled kernels, the Mesa model."""
