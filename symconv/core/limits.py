"""The limits of one request, checked before any work: each bounds the time and memory a run can take.

Kept apart and free of imports, so the command line states them in --help without loading the engine.
"""

MAX_EXERCISES = 1000  # entries of an exercise list, after merging repeats
MAX_SWEEP_POINTS = 100_000  # points of a formula sweep's grid
MAX_MODEL_POINTS = 1000  # sizes of a model sweep (each is a whole network analysis)
MAX_VARIANTS = 1000  # -n: variants of one exercise (per student with a roster)
MAX_SET = 20_000  # variants in one run: students x exercises x n
MAX_STUDENTS = 5000  # students in a roster
MAX_ROSTER_LINE = 1000  # characters in one line of a roster
MAX_STRESS = 100_000  # variants drawn and worked by one stress run
