"""Turns the ranker's attributions into language: facts, prompts, generation and verification.

Never imports TensorFlow: it consumes the small typed fact records that `ranker` produces.
"""
