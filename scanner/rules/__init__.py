"""judge: rules over the stored inventory -> findings. See scanner.rules.base for what a rule
is, scanner.rules.catalog for the rules in force, scanner.rules.evaluate for the run."""
