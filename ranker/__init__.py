"""Data, features, the Keras ranker and its evaluation; knows nothing about language models."""
