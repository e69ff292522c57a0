"""Qt-free, engine-free building blocks: methods, preprocessing, metrics, artifacts, sizes, identifiers."""
