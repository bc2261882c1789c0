"""The seed notebook's code on logitnet: only the imports changed.

Changes from the TensorFlow original:
  tensorflow.keras.layers.Dense        -> logitnet.layers.Dense
  tensorflow.keras.models.Sequential   -> logitnet.models.Sequential
  tf.keras.losses / tf.keras.optimizers -> logitnet.losses / logitnet.optimizers
  sklearn.datasets.make_blobs          -> logitnet.datasets.make_blobs (same samples, NumPy only)
  tf.nn.softmax(p).numpy()             -> logitnet.softmax(p)

Run: python examples/seed_notebook.py
"""

import numpy as np
import logitnet
from logitnet.layers import Dense
from logitnet.models import Sequential
from logitnet.datasets import make_blobs


# Creating my Softmax Function
def softmax(z):
    ez = np.exp(z)
    sm = ez / np.sum(ez)
    return sm


# make  dataset for example
centers = [[-5, 2], [-2, -2], [1, 2], [5, -2]]
X_train, y_train = make_blobs(n_samples=2000, centers=centers, cluster_std=1.0, random_state=30)

# Generating Model
model = Sequential(
    [
        Dense(25, activation='relu', name='layer1'),
        Dense(15, activation='relu', name='layer2'),
        Dense(4, activation='sigmoid', name='layer3')
    ]
)

model.compile(
    loss=logitnet.losses.SparseCategoricalCrossentropy(),
    optimizer=logitnet.optimizers.Adam(learning_rate=0.001)
)

model.fit(
    X_train, y_train,
    epochs=10
)

p_nonpreferred = model.predict(X_train)
print(p_nonpreferred[:2])
print("largest value", np.max(p_nonpreferred), "smallest value", np.min(p_nonpreferred))

for i in range(5):
    print(f"{p_nonpreferred[i]}, category: {np.argmax(p_nonpreferred[i])}")

## Optimized Solution

preferred_model = Sequential(
    [
        Dense(25, activation='relu'),
        Dense(15, activation='relu'),
        Dense(4, activation='linear')   # <-- Note
    ]
)

preferred_model.compile(
    loss=logitnet.losses.SparseCategoricalCrossentropy(from_logits=True),
    optimizer=logitnet.optimizers.Adam(learning_rate=0.001)
)

preferred_model.fit(
    X_train, y_train,
    epochs=10
)

p_preferred = preferred_model.predict(X_train)
print(f"two example output vectors:\n {p_preferred[:2]}")
print("largest value", np.max(p_preferred), "smallest value", np.min(p_preferred))

sm_preferred = logitnet.softmax(p_preferred)
print(f"two example output vectors:\n {sm_preferred[:2]}")
print("largest value", np.max(sm_preferred), "smallest value", np.min(sm_preferred))

for i in range(5):
    print(f"{p_preferred[i]}, category: {np.argmax(p_preferred[i])}")
