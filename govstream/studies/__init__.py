"""Studies made of many runs: replications of one scenario over seeds, and sweeps over a grid
of settings. Each run is independent; these modules only run them and merge what they found."""
