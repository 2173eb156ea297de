"""Teaching documents: exercises, the solution sheet, seeded variants, and publishing output sets."""
