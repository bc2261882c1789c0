"""logitnet: numerically stable softmax classifiers in NumPy."""
