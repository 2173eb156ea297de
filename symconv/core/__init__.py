"""The model: errors, values, notation, formulas as data, their transformation, derivations and solutions."""
