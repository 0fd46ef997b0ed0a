"""Training the ranker: what a run is asked to do (`train_config`), its examples and negatives (`examples`),
fitting with early stopping (`train`), whole-catalog scores for validation and evaluation (`scoring`), and the
end-to-end train and evaluate jobs behind the CLI and the benches (`pipeline`)."""
