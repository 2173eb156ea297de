"""The single-source formulas: layer sizes, parameters and MACs, receptive-field recurrences, gradients, detection metrics."""
